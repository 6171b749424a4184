import { createHmac, randomBytes } from "node:crypto";
import * as http from "node:http";
import { listenLocal, type LocalServer } from "./localServer";

/**
 * A local stand-in for the Microsoft identity platform's v2.0 token and device-code
 * endpoints (`{host}/{tenant}/oauth2/v2.0/token|devicecode`), shaped like Entra's answers:
 * every refresh exchange issues a new access token (with expires_in) and a new refresh
 * token, the old refresh token stays valid, errors carry error/error_description/
 * error_codes. It records every request (the forms hold secrets: tests assert on them and
 * never print them) and everything it issued, so a test can search all output for leaks.
 */
export interface TokenEndpointRequest {
  path: string;
  /** The whole form, secrets included. */
  form: Record<string, string>;
  headers: Record<string, string>;
  receivedAt: number;
}

export interface Refusal {
  status: number;
  error: string;
  aadsts?: string;
  description?: string;
  /** The whole answer body, as given (a hostile endpoint: any field may hold anything). */
  body?: Record<string, unknown>;
}

export interface FakeTokenEndpointOptions {
  tenantId: string;
  clientId: string;
  /** expires_in of issued access tokens. */
  accessTokenLifetimeInSeconds?: number;
  /** The client_assertion it accepts (a confidential client with a federated credential). */
  clientAssertion?: string;
  /** The client_secret it accepts. */
  clientSecret?: string;
  /** A public client refuses any client credential (AADSTS700025), as Entra does. */
  publicClient?: boolean;
  /**
   * Issue access tokens as signed JWTs holding these claims (plus iss, aud, iat, exp), as
   * Entra does for Azure Storage; without it, opaque tokens.
   */
  accessTokenClaims?: Record<string, unknown>;
}

export class FakeTokenEndpoint {
  readonly requests: TokenEndpointRequest[] = [];
  /** Every access and refresh token it ever issued: none may appear in output. */
  readonly issued: string[] = [];
  private readonly validRefreshTokens = new Set<string>();
  private readonly validAccessTokens = new Set<string>();
  private readonly refusals: Refusal[] = [];
  private readonly deviceCodes = new Map<string, { pollsLeft: number; outcome: "approve" | "decline" | "expire" }>();
  private listening?: LocalServer;
  private counter = 0;
  /** Delay before answering a token request (single-flight tests). */
  delayInMs = 0;
  /** Set false to answer without a new refresh token. */
  rotate = true;
  /** How the next device-code sign-in ends, and after how many pending polls. */
  nextDeviceLogin: { pendingPolls: number; outcome: "approve" | "decline" | "expire"; slowDownFirst?: boolean } = { pendingPolls: 1, outcome: "approve" };

  constructor(readonly options: FakeTokenEndpointOptions) {}

  get url(): string {
    if (!this.listening) throw new Error("The fake token endpoint is not started");
    return `http://127.0.0.1:${this.listening.port}`;
  }

  async start(): Promise<string> {
    this.listening = await listenLocal(http.createServer((req, res) => void this.handle(req, res)));
    return this.url;
  }

  async stop(): Promise<void> {
    await this.listening?.close();
    this.listening = undefined;
  }

  /** A refresh token it will accept, as if an admin had consented (to seed Key Vault). */
  mintRefreshToken(): string {
    const token = this.newToken("rt");
    this.validRefreshTokens.add(token);
    return token;
  }

  /** Revokes every refresh token (a password reset, an admin revocation). */
  revokeAll(): void {
    this.validRefreshTokens.clear();
  }

  acceptsAccessToken(token: string): boolean {
    return this.validAccessTokens.has(token);
  }

  /** The next token request(s) are refused with this answer. */
  refuseNext(refusal: Refusal, times = 1): void {
    for (let i = 0; i < times; i++) this.refusals.push(refusal);
  }

  exchanges(): TokenEndpointRequest[] {
    return this.requests.filter((r) => r.form.grant_type === "refresh_token");
  }

  private newToken(kind: "at" | "rt"): string {
    const token = `${kind}-${++this.counter}-${randomBytes(24).toString("base64url")}`;
    this.issued.push(token);
    return token;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
    const path = (req.url ?? "/").split("?")[0];
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v ?? "")]));
    this.requests.push({ path, form, headers, receivedAt: Date.now() });
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
      res.end(text);
    };
    const refuse = (r: Refusal) =>
      send(r.status, r.body ?? {
        error: r.error,
        error_description: `${r.aadsts ? `AADSTS${r.aadsts}: ` : ""}${r.description ?? r.error}\r\nTrace ID: ${randomBytes(8).toString("hex")}\r\nCorrelation ID: fake-correlation\r\nTimestamp: ${new Date().toISOString()}`,
        error_codes: r.aadsts ? [Number(r.aadsts)] : [],
        correlation_id: "fake-correlation",
      });

    if (this.delayInMs > 0) await new Promise((r) => setTimeout(r, this.delayInMs));
    const base = `/${this.options.tenantId}/oauth2/v2.0/`;
    if (req.method !== "POST" || !path.startsWith(base)) return refuse({ status: 404, error: "not_found", aadsts: "90002", description: "Tenant not found." });
    if (form.client_id !== this.options.clientId) {
      return refuse({ status: 400, error: "unauthorized_client", aadsts: "700016", description: "Application not found in the directory." });
    }
    if (path === `${base}devicecode`) return this.startDeviceCode(form, send);
    if (path !== `${base}token`) return refuse({ status: 404, error: "not_found" });

    const queued = this.refusals.shift();
    if (queued) return refuse(queued);
    const clientProblem = this.checkClient(form);
    if (clientProblem) return refuse(clientProblem);

    if (form.grant_type === "refresh_token") {
      if (!this.validRefreshTokens.has(form.refresh_token)) {
        return refuse({ status: 400, error: "invalid_grant", aadsts: "700082", description: "The refresh token has expired due to inactivity." });
      }
      return send(200, this.issue(form.scope));
    }
    if (form.grant_type === "urn:ietf:params:oauth:grant-type:device_code") return this.pollDeviceCode(form, send, refuse);
    return refuse({ status: 400, error: "unsupported_grant_type" });
  }

  private checkClient(form: Record<string, string>): Refusal | undefined {
    const presented = form.client_assertion !== undefined || form.client_secret !== undefined;
    if (this.options.publicClient) {
      return presented ? { status: 401, error: "invalid_client", aadsts: "700025", description: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented." } : undefined;
    }
    if (!presented) return { status: 401, error: "invalid_client", aadsts: "7000218", description: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." };
    if (form.client_secret !== undefined && form.client_secret !== this.options.clientSecret) {
      return { status: 401, error: "invalid_client", aadsts: "7000215", description: "Invalid client secret provided." };
    }
    if (form.client_assertion !== undefined) {
      if (form.client_assertion_type !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || form.client_assertion !== this.options.clientAssertion) {
        return { status: 401, error: "invalid_client", aadsts: "700213", description: "No matching federated identity record found for presented assertion subject." };
      }
    }
    return undefined;
  }

  /** A JWT (HS256 with a key of this endpoint's own) carrying the configured claims. */
  private newJwt(scope: string | undefined): string {
    const now = Math.floor(Date.now() / 1000);
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const claims = { aud: scope?.replace(/\/\.default$/, "") ?? "", iss: `https://sts.windows.net/${this.options.tenantId}/`, iat: now, exp: now + 3600, tid: this.options.tenantId, ...this.options.accessTokenClaims };
    const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}`;
    const token = `${unsigned}.${createHmac("sha256", this.signingKey).update(unsigned).digest("base64url")}`;
    this.issued.push(token);
    return token;
  }

  private readonly signingKey = randomBytes(32);

  private issue(scope: string | undefined): Record<string, unknown> {
    const access = this.options.accessTokenClaims ? this.newJwt(scope) : this.newToken("at");
    this.validAccessTokens.add(access);
    const answer: Record<string, unknown> = {
      token_type: "Bearer",
      scope: scope ?? "",
      expires_in: this.options.accessTokenLifetimeInSeconds ?? 3600,
      ext_expires_in: this.options.accessTokenLifetimeInSeconds ?? 3600,
      access_token: access,
    };
    if (this.rotate) {
      const refresh = this.newToken("rt");
      this.validRefreshTokens.add(refresh);
      answer.refresh_token = refresh;
    }
    return answer;
  }

  private startDeviceCode(form: Record<string, string>, send: (s: number, b: unknown) => void): void {
    const deviceCode = `dc-${randomBytes(12).toString("hex")}`;
    const plan = this.nextDeviceLogin;
    this.deviceCodes.set(deviceCode, { pollsLeft: plan.pendingPolls, outcome: plan.outcome });
    send(200, {
      device_code: deviceCode,
      user_code: "FAKE-CODE",
      verification_uri: "https://microsoft.com/devicelogin",
      expires_in: 900,
      interval: 1,
      message: `To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FAKE-CODE to authenticate. (scope ${form.scope})`,
    });
  }

  private pollDeviceCode(form: Record<string, string>, send: (s: number, b: unknown) => void, refuse: (r: Refusal) => void): void {
    const state = this.deviceCodes.get(form.device_code);
    if (!state) return refuse({ status: 400, error: "invalid_grant", aadsts: "70019", description: "Verification code expired." });
    if (this.nextDeviceLogin.slowDownFirst) {
      this.nextDeviceLogin.slowDownFirst = false;
      return refuse({ status: 400, error: "slow_down" });
    }
    if (state.pollsLeft > 0) {
      state.pollsLeft--;
      return refuse({ status: 400, error: "authorization_pending", aadsts: "70016", description: "The user has not yet completed the sign-in." });
    }
    this.deviceCodes.delete(form.device_code);
    if (state.outcome === "decline") return refuse({ status: 400, error: "authorization_declined", aadsts: "70000" });
    if (state.outcome === "expire") return refuse({ status: 400, error: "expired_token", aadsts: "70020" });
    const refresh = this.newToken("rt");
    this.validRefreshTokens.add(refresh);
    const access = this.newToken("at");
    this.validAccessTokens.add(access);
    send(200, { token_type: "Bearer", scope: "", expires_in: 3600, access_token: access, refresh_token: refresh });
  }
}
