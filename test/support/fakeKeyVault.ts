import { randomBytes } from "node:crypto";
import * as https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import type { SecretClientOptions } from "@azure/keyvault-secrets";
import { createTestCertificate, type TestCertificate } from "./tls";
import { listenLocal, type LocalServer } from "./localServer";

/**
 * A local Key Vault (secrets only) over HTTPS, reached by the real @azure/keyvault-secrets
 * SecretClient: it answers an unauthenticated request with Key Vault's 401 bearer
 * challenge, accepts only the token of the StubAzureIdentity, keeps every secret version,
 * and can refuse reads or writes with Key Vault's 403 body. The client trusts its
 * throwaway certificate through `tlsOptions: { ca }` (see clientOptions).
 */
export interface VaultRequest {
  method: string;
  path: string;
  status: number;
  authorized: boolean;
}

interface Version {
  version: string;
  value: string;
  created: number;
}

export class FakeKeyVault {
  readonly requests: VaultRequest[] = [];
  private readonly secrets = new Map<string, Version[]>();
  private listening?: LocalServer;
  private cert?: TestCertificate;
  /** Refuse these operations with 403 and this inner code; `only` limits it to one secret. */
  forbid: { read?: boolean; write?: boolean; innerCode?: string; only?: string } = {};
  /** The next `times` authorized requests are answered with this status and body (a hostile vault). */
  failNext?: { status: number; body: unknown; times: number };

  constructor(private readonly acceptedToken: string) {}

  get url(): string {
    if (!this.listening) throw new Error("The fake Key Vault is not started");
    return `https://127.0.0.1:${this.listening.port}`;
  }

  async start(): Promise<string> {
    this.cert = await createTestCertificate();
    this.listening = await listenLocal(https.createServer({ cert: this.cert.cert, key: this.cert.key }, (req, res) => void this.handle(req, res)));
    return this.url;
  }

  async stop(): Promise<void> {
    await this.listening?.close();
    this.listening = undefined;
  }

  /** What a SecretClient needs to reach this vault: its CA, no challenge-resource check (127.0.0.1 is no vault.azure.net), no SDK retries. */
  clientOptions(): SecretClientOptions {
    return { tlsOptions: { ca: this.cert!.cert }, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } };
  }

  put(name: string, value: string): string {
    const version = randomBytes(16).toString("hex");
    const list = this.secrets.get(name) ?? [];
    list.push({ version, value, created: Math.floor(Date.now() / 1000) });
    this.secrets.set(name, list);
    return version;
  }

  current(name: string): string | undefined {
    return this.secrets.get(name)?.at(-1)?.value;
  }

  versions(name: string): Version[] {
    return [...(this.secrets.get(name) ?? [])];
  }

  /** Every value ever stored: none may appear in output. */
  allValues(): string[] {
    return [...this.secrets.values()].flat().map((v) => v.value);
  }

  writes(name: string): VaultRequest[] {
    return this.requests.filter((r) => r.method === "PUT" && r.authorized && r.path === `/secrets/${name}` && r.status === 200);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const path = (req.url ?? "/").split("?")[0].replace(/\/+$/, "");
    const authorized = req.headers.authorization === `Bearer ${this.acceptedToken}`;
    const record: VaultRequest = { method: req.method ?? "", path, status: 0, authorized };
    this.requests.push(record);
    const send = (status: number, payload: unknown, extra: Record<string, string> = {}) => {
      record.status = status;
      const text = payload === undefined ? "" : JSON.stringify(payload);
      res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text), ...extra });
      res.end(text);
    };
    if (!req.headers.authorization) {
      // Key Vault's challenge: the SDK asks its credential for `${resource}/.default` and tries again.
      return send(401, { error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." } }, {
        "WWW-Authenticate": 'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001", resource="https://vault.azure.net"',
      });
    }
    if (!authorized) return send(401, { error: { code: "Unauthorized", message: "AKV10032: Invalid issuer." } });
    if (this.failNext && this.failNext.times > 0) {
      this.failNext.times--;
      return send(this.failNext.status, this.failNext.body);
    }

    const match = /^\/secrets\/([0-9A-Za-z-]+)(?:\/([0-9a-f]+))?$/.exec(path);
    if (!match) return send(404, { error: { code: "NotFound", message: "Not found" } });
    const [, name, version] = match;
    const forbidden = () =>
      send(403, {
        error: {
          code: "Forbidden",
          message: `Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/secrets/${req.method === "PUT" ? "setSecret" : "getSecret"}/action'`,
          innererror: { code: this.forbid.innerCode ?? "ForbiddenByRbac" },
        },
      });
    const refused = (flag: boolean | undefined) => flag === true && (this.forbid.only === undefined || this.forbid.only === name);
    if (req.method === "GET") {
      if (refused(this.forbid.read)) return forbidden();
      const list = this.secrets.get(name) ?? [];
      const found = version ? list.find((v) => v.version === version) : list.at(-1);
      if (!found) return send(404, { error: { code: "SecretNotFound", message: `A secret with (name/id) ${name} was not found in this key vault.` } });
      return send(200, this.bundle(name, found));
    }
    if (req.method === "PUT" && !version) {
      if (refused(this.forbid.write)) return forbidden();
      const parsed = JSON.parse(body) as { value?: string };
      if (typeof parsed.value !== "string") return send(400, { error: { code: "BadParameter", message: "value is required" } });
      const created = this.put(name, parsed.value);
      return send(200, this.bundle(name, this.versions(name).find((v) => v.version === created)!));
    }
    return send(405, { error: { code: "MethodNotAllowed", message: "Method not allowed" } });
  }

  private bundle(name: string, v: Version): Record<string, unknown> {
    return {
      value: v.value,
      id: `${this.url}/secrets/${name}/${v.version}`,
      attributes: { enabled: true, created: v.created, updated: v.created, recoveryLevel: "Recoverable+Purgeable", recoverableDays: 90 },
      tags: {},
    };
  }
}

/**
 * Stands in for the managed identity (DefaultAzureCredential): IMDS and the App Service
 * identity endpoint do not run here. It hands out one token for Key Vault and one as the
 * client assertion, and records the scopes asked for.
 */
export class StubAzureIdentity implements TokenCredential {
  readonly vaultToken = `kv-${randomBytes(16).toString("hex")}`;
  readonly assertion = `assertion-${randomBytes(16).toString("hex")}`;
  readonly scopes: string[] = [];
  /** Fails like the SDK's credential errors; `scopePrefix` limits it (e.g. "api://": the assertion only). */
  failWith?: { name: string; message: string; scopePrefix?: string };

  async getToken(scopes: string | string[]): Promise<AccessToken | null> {
    const scope = Array.isArray(scopes) ? scopes.join(" ") : scopes;
    this.scopes.push(scope);
    if (this.failWith && (this.failWith.scopePrefix === undefined || scope.startsWith(this.failWith.scopePrefix))) {
      const err = new Error(this.failWith.message);
      err.name = this.failWith.name;
      throw err;
    }
    const token = scope.startsWith("https://vault.azure.net") ? this.vaultToken : this.assertion;
    return { token, expiresOnTimestamp: Date.now() + 3600_000 };
  }
}
