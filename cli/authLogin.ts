import { azureIdentityFor, type ClientAuthentication, clientAuthFor, clientSecretValue, openSecretStore, signInWithDeviceCode, type UserAuthOptions } from "../shared/auth";
import { partnerCenterScope } from "../shared/partnerCenter";
import { SyncError } from "../shared/core";
import { loadUserAuthSettings } from "../shared/config";

/**
 * `billing-sync auth login`: the one interactive consent of the secure application model.
 * A Partner Center admin signs in with MFA through the device-code flow (the browser may
 * be on another device, so it works over SSH); the first refresh token goes straight into
 * Key Vault, written as the operator (`az login`). It prints the sign-in address and
 * code, and never a token.
 */
export interface AuthLoginArgs {
  tenant?: string;
  clientId?: string;
  vaultUrl?: string;
  secretName?: string;
  clientCredential?: string;
  /** Read a client secret from standard input instead of the configured credential (see docs/auth.md, step 5). */
  clientSecretStdin?: boolean;
}

export interface AuthLoginIo {
  stdout: (text: string) => void;
  env: Record<string, string | undefined>;
  readStdin?: () => Promise<string>;
  /** Tests: a local token endpoint and Key Vault, a stand-in Azure identity, fast polling. */
  userAuth?: UserAuthOptions & { sleep?: (ms: number, abortSignal?: AbortSignal) => Promise<void> };
}

function merged(args: AuthLoginArgs, env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) out[name] = value;
  };
  set("PARTNER_CENTER_TENANT_ID", args.tenant);
  set("PARTNER_CENTER_CLIENT_ID", args.clientId);
  set("PARTNER_CENTER_KEY_VAULT_URL", args.vaultUrl);
  set("PARTNER_CENTER_REFRESH_TOKEN_SECRET", args.secretName);
  set("PARTNER_CENTER_CLIENT_CREDENTIAL", args.clientCredential);
  return out;
}

/** Asks the credential once: the poll loop would otherwise read Key Vault every few seconds. */
function once(auth: ClientAuthentication): ClientAuthentication {
  let fields: Promise<Record<string, string>> | undefined;
  return (options) => {
    fields ??= auth(options).catch((err: unknown) => {
      fields = undefined;
      throw err;
    });
    return fields;
  };
}

export async function runAuthLogin(args: AuthLoginArgs, io: AuthLoginIo): Promise<void> {
  const settings = loadUserAuthSettings(merged(args, io.env));
  const { auth } = settings;
  const options = io.userAuth ?? {};
  const identity = await azureIdentityFor(auth, options);
  const secrets = await openSecretStore(auth.keyVaultUrl, identity, "the signed-in operator (`az login`)", options);

  // Fail on a Key Vault permission problem now, not after the operator has signed in.
  try {
    await secrets.get(auth.refreshTokenSecretName, { purpose: "refresh-token" });
  } catch (err) {
    if (!(err instanceof SyncError && err.serviceCode === "KeyVaultSecretNotFound")) throw err;
  }

  let clientAuth: ClientAuthentication;
  if (args.clientSecretStdin) {
    if (!io.readStdin) throw new SyncError("ConfigError", "--client-secret-stdin needs standard input.");
    const secret = (await io.readStdin()).trim();
    if (secret === "") throw new SyncError("ConfigError", "--client-secret-stdin read an empty client secret.");
    clientAuth = clientSecretValue(secret);
  } else {
    clientAuth = once(await clientAuthFor(settings.cloud, auth, secrets, options));
  }
  // A credential problem (no managed identity here, no secret in the vault) shows before the sign-in.
  try {
    await clientAuth();
  } catch (err) {
    if (err instanceof SyncError && err.serviceCode === "ClientAssertionUnavailable") {
      throw new SyncError(
        "AuthError",
        `${err.message} The managed identity exists only on Azure compute it is attached to; elsewhere, pass a short-lived client secret with --client-secret-stdin (docs/auth.md, "Set it up, step by step", step 5).`,
        { serviceCode: err.serviceCode },
      );
    }
    throw err;
  }

  const tokens = await signInWithDeviceCode({
    authorityHost: options.authorityHost ?? settings.authorityHost,
    tenantId: auth.tenantId,
    clientId: auth.clientId,
    scope: partnerCenterScope(settings.apiBaseUrl),
    clientAuth,
    tokenRequest: options.tokenRequest,
    sleep: options.sleep,
    now: options.now,
    onPrompt: (p) =>
      io.stdout(
        `To sign in, open ${p.verificationUri} and enter the code ${p.userCode} (valid for ${Math.round(p.expiresInSeconds / 60)} min).\n` +
          "Sign in as a Partner Center admin agent of the partner tenant, with MFA.\n",
      ),
  });
  if (!tokens.refreshToken) {
    throw new SyncError("AuthError", "The sign-in returned no refresh token: nothing was stored. Check that the app registration is not limited to short-lived tokens.", {
      serviceCode: "no_refresh_token",
    });
  }
  const stored = await secrets.set(auth.refreshTokenSecretName, tokens.refreshToken, { purpose: "refresh-token" });
  io.stdout(
    `Signed in. The refresh token is stored in ${secrets.describe(auth.refreshTokenSecretName)}${stored.version ? `, version ${stored.version}` : ""}.\n` +
      "The app exchanges it on its next run and stores every rotated refresh token back, so the consent stays valid while the app runs.\n",
  );
}
