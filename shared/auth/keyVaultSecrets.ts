import type { SecretClient } from "@azure/keyvault-secrets";
import { azureErrorCode, registerSecret, SyncError } from "../core";
import { maskOutsideText } from "../model";

/**
 * The secrets the credential reads and writes, behind a small interface so the credential
 * does not know Key Vault. Every Key Vault failure leaves here as a fresh SyncError
 * "AuthError" that names the vault, the secret and, for a 403, the role to grant: the
 * SDK's RestError (which carries the request) never does.
 */
export interface SecretValue {
  value: string;
  version?: string;
}

export interface SecretStore {
  /** For messages: `Key Vault secret "name" of https://vault...`. */
  describe(name: string): string;
  get(name: string, options?: { abortSignal?: AbortSignal; purpose?: SecretPurpose }): Promise<SecretValue>;
  /** Adds a new version of the secret; returns its version id. */
  set(name: string, value: string, options?: { abortSignal?: AbortSignal; purpose?: SecretPurpose }): Promise<{ version?: string }>;
}

/** What the secret is, so a missing one gets the right advice. */
export type SecretPurpose = "refresh-token" | "client-secret";

export interface KeyVaultSecretStoreOptions {
  /** Who calls, for a 403 message: "the app's managed identity" or "the signed-in operator". */
  caller: string;
}

interface RestErrorLike {
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  details?: { error?: { innererror?: { code?: string }; innerError?: { code?: string } } };
}

const ROLE_TO_READ = "Key Vault Secrets User";
const ROLE_TO_WRITE = "Key Vault Secrets Officer";

/** The SDK's Azure credential failures, by class name (they are not RestErrors). */
const CREDENTIAL_ERRORS = new Set(["CredentialUnavailableError", "AuthenticationError", "AggregateAuthenticationError"]);

export class KeyVaultSecretStore implements SecretStore {
  constructor(
    private readonly client: Pick<SecretClient, "getSecret" | "setSecret" | "vaultUrl">,
    private readonly options: KeyVaultSecretStoreOptions,
  ) {}

  describe(name: string): string {
    return `Key Vault secret "${name}" of ${this.client.vaultUrl}`;
  }

  async get(name: string, options: { abortSignal?: AbortSignal; purpose?: SecretPurpose } = {}): Promise<SecretValue> {
    let secret;
    try {
      secret = await this.client.getSecret(name, { abortSignal: options.abortSignal });
    } catch (err) {
      throw this.translate(err, "read", name, options.purpose);
    }
    if (typeof secret.value !== "string" || secret.value.trim() === "") {
      throw new SyncError("AuthError", `${this.describe(name)} is empty.${advice(options.purpose)}`, { serviceCode: "KeyVaultSecretEmpty" });
    }
    // Every secret this store reads is one (a refresh token, a client secret).
    registerSecret(secret.value);
    registerSecret(secret.value.trim());
    return { value: secret.value.trim(), version: secret.properties.version };
  }

  async set(name: string, value: string, options: { abortSignal?: AbortSignal; purpose?: SecretPurpose } = {}): Promise<{ version?: string }> {
    registerSecret(value);
    try {
      const stored = await this.client.setSecret(name, value, {
        abortSignal: options.abortSignal,
        contentType: options.purpose === "refresh-token" ? "Partner Center refresh token" : undefined,
        tags: { "written-by": "partner-billing-sync" },
      });
      return { version: stored.properties.version };
    } catch (err) {
      throw this.translate(err, "write", name, options.purpose);
    }
  }

  private translate(err: unknown, action: "read" | "write", name: string, purpose: SecretPurpose | undefined): SyncError {
    const e = (err ?? {}) as RestErrorLike;
    const where = this.describe(name);
    if (e.name === "AbortError") return new SyncError("Aborted", `${action === "read" ? "Reading" : "Writing"} ${where} was aborted.`);
    if (e.name && CREDENTIAL_ERRORS.has(e.name)) {
      const said = typeof e.message === "string" ? `: ${maskOutsideText(e.message.split(/\r?\n/)[0])}` : "";
      return new SyncError(
        "AuthError",
        `No Azure identity could get a Key Vault token to ${action} ${where} (${e.name}${said}). In Azure, set AZURE_CLIENT_ID to the client id of the app's user-assigned managed identity; on a workstation, run \`az login\`.`,
        { serviceCode: "AzureCredentialUnavailable" },
      );
    }
    const status = e.statusCode;
    if (status === 403) {
      const inner = azureErrorCode(e.details?.error?.innererror?.code ?? e.details?.error?.innerError?.code);
      const role = action === "write" || purpose === "refresh-token" ? ROLE_TO_WRITE : ROLE_TO_READ;
      const why =
        inner === "ForbiddenByFirewall"
          ? `the vault's firewall blocks ${this.options.caller}: allow its outbound addresses or reach the vault through a private endpoint`
          : inner === "ForbiddenByPolicy"
            ? `${this.options.caller} has no access policy with secret get/set on the vault: switch the vault to Azure RBAC and grant the "${role}" role, or add the access policy`
            : `${this.options.caller} lacks the "${role}" role on the vault (${role === ROLE_TO_WRITE ? "it must read and store back the rotated refresh token" : "it must read the secret"})`;
      return new SyncError("AuthError", `Key Vault ${this.client.vaultUrl} refused to ${action} secret "${name}" (403${inner ? ` ${inner}` : ""}): ${why}.`, {
        statusCode: 403,
        serviceCode: "KeyVaultForbidden",
      });
    }
    if (status === 404 && action === "read") {
      return new SyncError("AuthError", `${where} does not exist.${advice(purpose)}`, { statusCode: 404, serviceCode: "KeyVaultSecretNotFound" });
    }
    if (status === 401) {
      return new SyncError("AuthError", `Key Vault refused the Azure token of ${this.options.caller} for ${where} (401): check that the identity belongs to the vault's tenant.`, {
        statusCode: 401,
        serviceCode: "KeyVaultUnauthorized",
      });
    }
    // The vault's error code only in the shape real ones have (SecretNotFound, Throttled): its message is never shown.
    const code = azureErrorCode(e.code);
    return new SyncError(
      "AuthError",
      `Could not ${action} ${where}${status ? ` (${status}${code ? ` ${code}` : ""})` : code ? ` (${code})` : ""}; the next run tries again.`,
      { statusCode: status, serviceCode: status ? "KeyVaultError" : "KeyVaultUnreachable" },
    );
  }
}

function advice(purpose: SecretPurpose | undefined): string {
  if (purpose === "refresh-token") return " Store the first refresh token with `billing-sync auth login`.";
  if (purpose === "client-secret") return " Store the app registration's client secret there, or use PARTNER_CENTER_CLIENT_CREDENTIAL=managed-identity.";
  return "";
}
