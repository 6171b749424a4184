import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { cloneJson, getPath, isJsonObject, type Json, type JsonObject, parseJsonText, setPath, stripBom, toJsonText } from "../shared/core";
import { RECORDED_COUNTRY_RULES } from "./countryRules";
import { continuationToken, CustomerDirectory, type NextLinkForm, nextLinkUri, offsetOfToken } from "./customers";
import { defaultLiveProfile } from "./defaultProfile";
import { createLimiter, type Limiter, type LimitOptions } from "./rateLimit";

/**
 * A local stand-in for GET/PUT /v1/profiles/billing, behaving as the public record shows
 * the real service does (partner-center-api.md): camelCase answers pretty-printed with
 * CRLF, optional BOM, unknown fields, an ETag in the body that changes on every write,
 * stale-ETag rejection, Bearer token required, MS-* headers echoed, full-replace PUT;
 * numbers kept digit for digit; optionally no ETag at all (as the legal business profile
 * samples show). Beside the profile: GET /v1/countryvalidationrules/{iso2} (the recorded
 * US body) and POST /v1/validations/address, answering as the 2021 or the 2019 record
 * shows, with any status. Faults are injected per request. It serves the demo and the
 * tests, never production.
 */
export type Fault =
  | { kind: "status"; status: number; body?: string; contentType?: string; headers?: Record<string, string> }
  | { kind: "throttle"; retryAfterSeconds?: number }
  | { kind: "reset" }
  | { kind: "timeout" }
  | { kind: "malformed"; body: string }
  /**
   * Half the body. `dropped` (default): Content-Length promises the whole body and the
   * connection closes early. `complete`: Content-Length matches the cut body, so HTTP
   * sees a whole answer whose JSON ends mid-way.
   */
  | { kind: "truncated"; framing?: "dropped" | "complete" }
  | { kind: "html"; status: number }
  | { kind: "stale" }
  /** Another writer changes the profile (new ETag) just before this request is handled. */
  | { kind: "concurrentWrite"; set: Record<string, Json> };

/** The endpoints it serves; a fault applies to one (default: the billing profile). */
export type Endpoint = "profile" | "countryRules" | "addressValidation";

/**
 * How POST /v1/validations/address answers. 2021: 200 with an AddressValidationResponse of
 * this status; without suggestedAddresses, the address as received is the one suggestion
 * (none for None and NotValidated). 2019: 200 with an empty body, or 400 code 2007 with
 * the corrected address (snake case, as the record shows).
 */
export type AddressValidationBehaviour =
  | { era: 2021; status: string; suggestedAddresses?: JsonObject[]; validationMessage?: string }
  | { era: 2019; valid: true }
  | { era: 2019; valid: false; correctedAddress?: Record<string, string>; reason?: string };

export interface FaultRule {
  method?: "GET" | "PUT" | "POST";
  /** Default: the billing profile. */
  endpoint?: Endpoint;
  /** Only requests to this account (see addAccount); default: any. */
  account?: string;
  /**
   * Profile endpoints only: the partner's own profile, any customer's profile, the customer
   * list, or one customer's profile by tenant id. Default: any.
   */
  on?: "partner" | "customer" | "customers" | { customer: string };
  /** How many matching requests it applies to; default 1. */
  times?: number;
  /**
   * PUT only: the update is applied (stored, new ETag) before the fault answers: an
   * answer lost or garbled after the write landed.
   */
  afterApply?: boolean;
  fault: Fault;
}

/** What a received PUT was built from: the body this simulator served under the PUT's ETag. */
export interface PutAudit {
  account: string;
  /** The PUT body as received, parsed. */
  put: JsonObject;
  /** The body served by a GET with the ETag the PUT carries; undefined if no such GET was answered. */
  basedOn?: JsonObject;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-cased names. Authorization is recorded as "Bearer <valid>" or "<invalid>", never the token. */
  headers: Record<string, string>;
  body: string;
  status: number;
  /** The account the token belongs to, if any. */
  account?: string;
  /** Which Partner Center endpoint it reached, if any. */
  endpoint?: Endpoint;
  fault?: Fault["kind"];
}

interface Account {
  name: string;
  profile: JsonObject;
  etagCounter: number;
  customers: CustomerDirectory;
  bucket?: Limiter;
}

/** Where a profile request goes. */
type Route = { to: "partner" } | { to: "customers" } | { to: "customer"; id: string };

/** One stored profile, the partner's or a customer's, as GET and PUT handle it. */
interface ProfileSlot {
  /** `account|resource`: the key of what GETs served (customer ETags are unique per customer). */
  key: string;
  read(): JsonObject;
  /** A PUT: store and issue a new ETag. */
  replace(next: JsonObject): void;
  /** Another writer (dotted camelCase paths): a new ETag, no rewrite. */
  write(set: Record<string, Json>): void;
  /** The docs ask for If-Match on the customer profile; the partner profile ignores it. */
  checksIfMatch: boolean;
}

export interface SimulatorOptions {
  /** The bearer token it accepts; any other gets 401. */
  token: string;
  /** Accepts other tokens too (tests of the user credential: tokens a local token endpoint issued). */
  acceptToken?: (token: string) => boolean;
  profile?: JsonObject;
  /** Casing of the answers: the live service answers camelCase. */
  casing?: "camel" | "pascal";
  bom?: boolean;
  latencyMs?: number;
  /** How a stale ETag is refused: 412, 409, or 400 with code 2055. */
  staleEtagAnswer?: 412 | 409 | 2055;
  /** Applied to the stored profile after each accepted PUT: a service that normalises values. */
  rewrite?: (profile: JsonObject) => void;
  /**
   * Runs before an answer to GET or PUT /v1/profiles/billing is written (after a PUT is
   * applied): a test takes another real part down at that exact moment.
   */
  beforeAnswer?: (request: { method: "GET" | "PUT"; account: string }) => void | Promise<void>;
  /** Sees every PUT body received, with the body it was built from. */
  onPut?: (audit: PutAudit) => void;
  /** Keep every request in `requests` (default); a long soak turns it off. */
  recordRequests?: boolean;
  /** false: profiles carry no Attributes.Etag and a PUT is not checked against one (last writer wins). */
  etags?: boolean;
  addressValidation?: AddressValidationBehaviour;
  /** Customers of the default account, each with a billing profile; default 0. */
  customers?: number;
  /** How links.next.uri of the customer list is written; default "v1". */
  nextLinkForm?: NextLinkForm;
  /** A limit per partner account over every call (token bucket, sliding window, or a bucket shared with another tool); default none. */
  rateLimit?: LimitOptions;
}

/** Calls answered, by what they were; kept even when `recordRequests` is off. */
export interface SimulatorTotals {
  GET: number;
  PUT: number;
  POST: number;
  throttled: number;
}

const ADMIN_PREFIX = "/_simulator";

export function recase(value: Json, casing: "camel" | "pascal"): Json {
  if (Array.isArray(value)) return value.map((v) => recase(v, casing));
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    const k = key === "" ? key : casing === "camel" ? key[0].toLowerCase() + key.slice(1) : key[0].toUpperCase() + key.slice(1);
    out[k] = recase(v, casing);
  }
  return out;
}

/** `a.b.c` in a profile, matching existing keys in any case (the engine's own path helpers). */
const setDotted = (profile: JsonObject, dotted: string, value: Json): void => setPath(profile, dotted.split("."), value);
const getDotted = (profile: JsonObject, dotted: string): Json | undefined => getPath(profile, dotted.split("."));

/** Where a profile path goes: the partner's profile, the customer list, or one customer's profile. */
function routeOf(lower: string): Route | undefined {
  if (lower === "/v1/profiles/billing") return { to: "partner" };
  if (lower === "/v1/customers") return { to: "customers" };
  const match = /^\/v1\/customers\/([^/]+)\/profiles\/billing$/.exec(lower);
  return match ? { to: "customer", id: decodeURIComponent(match[1]) } : undefined;
}

/** The account the constructor's token reaches. */
export const DEFAULT_ACCOUNT = "default";

export class PartnerCenterSimulator {
  readonly requests: RecordedRequest[] = [];
  /** Partner accounts by bearer token: the real service knows the account from the token. */
  private readonly accounts = new Map<string, Account>();
  private rules: FaultRule[] = [];
  private server?: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly options: Required<Omit<SimulatorOptions, "rewrite" | "profile" | "acceptToken" | "beforeAnswer" | "onPut" | "rateLimit" | "customers">> &
    Pick<SimulatorOptions, "rewrite" | "acceptToken" | "beforeAnswer" | "onPut" | "rateLimit" | "customers">;
  readonly totals: SimulatorTotals = { GET: 0, PUT: 0, POST: 0, throttled: 0 };
  /** Bodies served by GET, by ETag, the newest few hundred: what a PUT claims to be based on. */
  private readonly served = new Map<string, JsonObject>();
  /** Faults applied, by kind, since the start (survives resetRequests). */
  readonly faultCounts: Record<string, number> = {};
  /** Rules bodies by ISO code, served verbatim. */
  private readonly countryRules = new Map<string, string>(Object.entries(RECORDED_COUNTRY_RULES));
  /** Billing-profile requests being handled now, and the most at once since resetRequests. */
  inFlight = 0;
  maxInFlight = 0;

  constructor(options: SimulatorOptions) {
    this.options = {
      casing: "camel",
      bom: false,
      latencyMs: 0,
      staleEtagAnswer: 412,
      recordRequests: true,
      etags: true,
      addressValidation: { era: 2021, status: "VerifiedShippable" },
      nextLinkForm: "v1",
      ...options,
    };
    this.addAccount(DEFAULT_ACCOUNT, options.token, options.profile, { customers: options.customers });
  }

  /** Serves `body` (verbatim) as the rules of `iso2`; undefined: answer 404 for it. */
  setCountryRules(iso2: string, body: string | undefined): void {
    if (body === undefined) this.countryRules.delete(iso2.toUpperCase());
    else this.countryRules.set(iso2.toUpperCase(), body);
  }

  /** Another partner account, reached with its own token. */
  addAccount(name: string, token: string, profile?: JsonObject, options: { customers?: number } = {}): void {
    this.accounts.set(token, {
      name,
      profile: this.canonical(profile ?? defaultLiveProfile()),
      etagCounter: 1000,
      customers: new CustomerDirectory({ count: options.customers ?? 0 }),
      bucket: this.options.rateLimit && createLimiter(this.options.rateLimit),
    });
  }

  /** The customers of an account: their ids, and their profiles to read, seed or change as another writer would. */
  customers(account?: string): CustomerDirectory {
    return this.account(account).customers;
  }

  private account(name = DEFAULT_ACCOUNT): Account {
    for (const account of this.accounts.values()) if (account.name === name) return account;
    throw new Error(`The simulator has no account ${name}`);
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error("The simulator is not started");
    return `http://127.0.0.1:${address.port}`;
  }

  async start(port = 0, host = "127.0.0.1"): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5_000;
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    return this.url;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  setProfile(profile: JsonObject, account?: string): void {
    this.account(account).profile = this.canonical(profile);
  }

  /** A copy of the stored profile (numbers as LosslessNumber where it was given them). */
  getProfile(account?: string): JsonObject {
    return cloneJson(this.account(account).profile);
  }

  /** Another writer edits the profile now (new ETag). */
  write(set: Record<string, Json>, account?: string): void {
    const target = this.account(account);
    for (const [path, value] of Object.entries(set)) setDotted(target.profile, path, value);
    this.bumpEtag(target);
  }

  inject(rule: FaultRule): void {
    this.rules.push({ times: 1, ...rule });
  }

  /** Changes how it answers from now on: casing, BOM, latency, stale-ETag status, rewrite, ETags, address validation. */
  configure(options: Partial<Omit<SimulatorOptions, "token" | "profile" | "customers">>): void {
    Object.assign(this.options, options);
    if (options.etags === false) for (const account of this.accounts.values()) account.profile = this.canonical(account.profile);
    if ("rateLimit" in options) for (const account of this.accounts.values()) account.bucket = options.rateLimit && createLimiter(options.rateLimit);
  }

  clearFaults(): void {
    this.rules = [];
  }

  resetRequests(): void {
    this.requests.length = 0;
    this.maxInFlight = this.inFlight;
  }

  /** Partner Center requests received (every endpoint: the calls a run costs), optionally of one method, account and endpoint. */
  count(method?: "GET" | "PUT" | "POST", account?: string, endpoint: Endpoint | "any" = "any"): number {
    return this.requests.filter(
      (r) =>
        !r.path.startsWith(ADMIN_PREFIX) &&
        (endpoint === "any" || (r.endpoint ?? "profile") === endpoint) &&
        (method === undefined || r.method === method) &&
        (account === undefined || r.account === account),
    ).length;
  }

  private canonical(profile: JsonObject): JsonObject {
    const out = recase(cloneJson(profile), this.options.casing) as JsonObject;
    if (!this.options.etags) {
      const attributes = getDotted(out, "attributes");
      if (isJsonObject(attributes ?? null)) for (const key of Object.keys(attributes as JsonObject)) if (key.toLowerCase() === "etag") delete (attributes as JsonObject)[key];
    }
    return out;
  }

  private bumpEtag(account: Account): void {
    if (!this.options.etags) return;
    account.etagCounter++;
    setDotted(account.profile, "attributes.etag", `"${-2279334701316321663n + BigInt(account.etagCounter)}"`);
  }

  /** The body a GET of this account answered with this ETag (recent ones only); `customer` (a tenant id) for a customer's profile. */
  servedFor(etag: string, account = DEFAULT_ACCOUNT, customer?: string): JsonObject | undefined {
    const body = this.served.get(`${account}|${customer ?? "partner"}|${etag}`);
    return body && cloneJson(body);
  }

  private remember(slot: ProfileSlot, profile: JsonObject): void {
    const etag = getDotted(profile, "attributes.etag");
    if (typeof etag !== "string") return;
    // ETags count per account, so the same one can name two accounts' profiles.
    const key = `${slot.key}|${etag}`;
    this.served.delete(key);
    this.served.set(key, cloneJson(profile));
    if (this.served.size > 512) this.served.delete(this.served.keys().next().value as string);
  }

  private slot(account: Account, route: Exclude<Route, { to: "customers" }>): ProfileSlot | undefined {
    if (route.to === "partner") {
      return {
        key: `${account.name}|partner`,
        read: () => account.profile,
        replace: (next) => {
          account.profile = next;
          this.options.rewrite?.(account.profile);
          this.bumpEtag(account);
        },
        write: (set) => this.write(set, account.name),
        checksIfMatch: false,
      };
    }
    const index = account.customers.indexOf(route.id);
    if (index === undefined) return undefined;
    return {
      key: `${account.name}|${account.customers.id(index)}`,
      read: () => account.customers.profile(index),
      replace: (next) => {
        this.options.rewrite?.(next);
        account.customers.store(index, next);
      },
      write: (set) => account.customers.write(index, set),
      checksIfMatch: true,
    };
  }

  private matches(rule: FaultRule, route: Route | undefined): boolean {
    if (rule.on === undefined) return true;
    if (route === undefined) return false;
    if (typeof rule.on === "string") return rule.on === route.to;
    return route.to === "customer" && route.id.toLowerCase() === rule.on.customer.toLowerCase();
  }

  private takeFault(method: string, account: string, endpoint: Endpoint = "profile", route?: Route): FaultRule | undefined {
    const index = this.rules.findIndex(
      (r) =>
        (r.endpoint ?? "profile") === endpoint &&
        (r.method === undefined || r.method === method) &&
        (r.account === undefined || r.account === account) &&
        this.matches(r, route),
    );
    if (index < 0) return undefined;
    const rule = this.rules[index];
    rule.times = (rule.times ?? 1) - 1;
    if (rule.times <= 0) this.rules.splice(index, 1);
    const kind = rule.afterApply && method === "PUT" ? `${rule.fault.kind}AfterApply` : rule.fault.kind;
    this.faultCounts[kind] = (this.faultCounts[kind] ?? 0) + 1;
    return rule;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const path = (req.url ?? "/").split("?")[0];
    const auth = req.headers.authorization ?? "";
    const bearer = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length) : "";
    // A token the test's token endpoint issued (acceptToken) reaches the default account.
    const account = this.accounts.get(bearer) ?? (bearer !== "" && this.options.acceptToken?.(bearer) === true ? this.account() : undefined);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (name === "authorization") headers[name] = account ? "Bearer <valid>" : "<invalid>";
      else headers[name] = Array.isArray(value) ? value.join(", ") : String(value ?? "");
    }
    const recorded: RecordedRequest = { method: req.method ?? "", path, headers, body, status: 0, account: account?.name };
    if (this.options.recordRequests || path.startsWith(ADMIN_PREFIX)) this.requests.push(recorded);

    if (path.startsWith(ADMIN_PREFIX)) return this.admin(req.method ?? "", path, body, res, recorded);
    // Counted from the whole request's arrival to the answer's end (or the socket's).
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.once("close", () => this.inFlight--);

    if (this.options.latencyMs > 0) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    const echo = {
      "MS-CorrelationId": headers["ms-correlationid"] ?? "",
      "MS-RequestId": headers["ms-requestid"] ?? "",
      "MS-CV": `${randomUUID().slice(0, 8)}.0`,
      "MS-ServerId": "simulator-1",
    };
    const send = (status: number, text: string, extra: Record<string, string> = {}, contentType = "application/json; charset=utf-8") => {
      recorded.status = status;
      res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text), ...echo, ...extra });
      res.end(text);
    };
    const sendProfile = (profile: JsonObject) => {
      const text = toJsonText(profile, 4).replace(/\n/g, "\r\n");
      send(200, (this.options.bom ? "\uFEFF" : "") + text);
    };
    const error = (status: number, code: number, description: string) =>
      send(status, JSON.stringify({ code, description, data: [], source: "PartnerFD" }));

    const lower = path.toLowerCase();
    const route = routeOf(lower);
    const service = lower.startsWith("/v1/countryvalidationrules/") || lower === "/v1/validations/address";
    if (!route && !service) return error(404, 404, "Resource not found");
    if (!account) return error(401, 401, "Authentication failed");
    if (req.method === "GET" || req.method === "PUT" || req.method === "POST") this.totals[req.method]++;
    // The limit is per partner tenant, over every call (§5).
    const admitted = account.bucket?.take() ?? { ok: true };
    if (!admitted.ok) {
      this.totals.throttled++;
      recorded.fault = "throttle";
      const message = `Rate limit is exceeded. Try again in ${admitted.retryAfterSeconds} seconds.`;
      const precise: Record<string, string> = (this.options.rateLimit?.timeScale ?? 1) !== 1 ? { "retry-after-ms": String(admitted.retryAfterMs) } : {};
      return send(429, JSON.stringify({ statusCode: 429, message }), { "Retry-After": String(admitted.retryAfterSeconds), ...precise });
    }
    if (service) {
      const endpoint: Endpoint = lower === "/v1/validations/address" ? "addressValidation" : "countryRules";
      recorded.endpoint = endpoint;
      const rule = this.takeFault(req.method ?? "", account.name, endpoint);
      recorded.fault = rule?.fault.kind;
      if (rule && rule.fault.kind !== "concurrentWrite") return this.applyFault(rule.fault, () => account.profile, res, recorded, send, error);
      if (endpoint === "countryRules") {
        if (req.method !== "GET") return error(405, 405, "Method not allowed");
        const rules = this.countryRules.get(path.slice("/v1/countryvalidationrules/".length).toUpperCase());
        return rules === undefined ? error(404, 404, "Country not found") : send(200, rules);
      }
      if (req.method !== "POST") return error(405, 405, "Method not allowed");
      return this.validateAddress(body, send, error);
    }
    if (!route) return error(404, 404, "Resource not found");
    const allowed = route.to === "customers" ? ["GET"] : ["GET", "PUT"];
    if (!allowed.includes(req.method ?? "")) return error(405, 405, "Method not allowed");

    const method = req.method as "GET" | "PUT";
    const rule = this.takeFault(method, account.name, "profile", route);
    const fault = rule?.fault;
    recorded.fault = fault?.kind;
    const answer = async (then: () => void) => {
      await this.options.beforeAnswer?.({ method, account: account.name });
      then();
    };
    if (route.to === "customers") {
      if (fault && fault.kind !== "concurrentWrite") return answer(() => this.applyFault(fault, () => ({}), res, recorded, send, error));
      return answer(() => this.listCustomers(account, new URL(req.url ?? "/", "http://x").searchParams, headers, send, error));
    }
    const slot = this.slot(account, route);
    if (!slot) return error(404, 600_08, "Customer not found");
    if (fault?.kind === "concurrentWrite") slot.write(fault.set);
    else if (fault && !(rule?.afterApply && method === "PUT")) return answer(() => this.applyFault(fault, slot.read, res, recorded, send, error));

    if (method === "GET") {
      const profile = slot.read();
      this.remember(slot, profile);
      return answer(() => sendProfile(profile));
    }

    let incoming: unknown;
    try {
      incoming = parseJsonText(stripBom(body), { maxDepth: 64 });
    } catch {
      return answer(() => error(400, 400, "The request body is not valid JSON"));
    }
    if (!isJsonObject(incoming)) return answer(() => error(400, 400, "The request body must be a BillingProfile object"));
    const etag = getDotted(incoming, "attributes.etag");
    this.options.onPut?.({ account: account.name, put: incoming, basedOn: typeof etag === "string" ? this.served.get(`${slot.key}|${etag}`) : undefined });
    const current = slot.read();
    const currentEtag = getDotted(current, "attributes.etag");
    // A profile without an ETag takes any write (last writer wins); one with an ETag takes
    // only a write built on it: in the body, and in If-Match when the client sends one.
    if (currentEtag !== undefined) {
      if (etag !== currentEtag) return answer(() => this.stale(error, send));
      const ifMatch = headers["if-match"];
      if (slot.checksIfMatch && ifMatch !== undefined && ifMatch !== `"${String(currentEtag).replace(/"/g, "")}"` && ifMatch !== currentEtag) {
        return answer(() => this.stale(error, send));
      }
    }
    // Full replace: what the client sent is the new profile; the service keeps its own
    // links and attributes and issues a new ETag.
    const next = this.canonical(incoming);
    setDotted(next, "attributes", cloneJson(getDotted(current, "attributes") ?? {}));
    setDotted(next, "links", cloneJson(getDotted(current, "links") ?? {}));
    slot.replace(next);
    if (fault && fault.kind !== "concurrentWrite") return answer(() => this.applyFault(fault, slot.read, res, recorded, send, error));
    return answer(() => sendProfile(slot.read()));
  }

  /** GET /v1/customers?size=N, then links.next with MS-ContinuationToken (§2). */
  private listCustomers(
    account: Account,
    query: URLSearchParams,
    headers: Record<string, string>,
    send: (status: number, text: string) => void,
    error: (status: number, code: number, d: string) => void,
  ): void {
    const requested = Number(query.get("size") ?? "500");
    if (!Number.isInteger(requested) || requested < 0) return error(400, 400, "size must be a whole number");
    const size = Math.min(500, requested === 0 ? 500 : requested);
    let offset = 0;
    if (query.get("seekOperation") !== null) {
      const token = headers["ms-continuationtoken"];
      const decoded = token === undefined ? undefined : offsetOfToken(token);
      if (decoded === undefined) return error(400, 400, "The continuation token is missing or not valid");
      offset = decoded;
    }
    const directory = account.customers;
    const end = Math.min(directory.count, offset + size);
    const items: JsonObject[] = [];
    for (let i = offset; i < end; i++) items.push(directory.listItem(i));
    const body: JsonObject = {
      totalCount: items.length,
      items,
      links: { self: { uri: `/v1/customers?size=${size}`, method: "GET", headers: [] } },
      attributes: { objectType: "Collection" },
    };
    if (end < directory.count) {
      const page = Math.floor(offset / size);
      (body.links as JsonObject).next = {
        uri: nextLinkUri(this.options.nextLinkForm, this.url, size, page),
        method: "GET",
        headers: [{ key: "MS-ContinuationToken", value: continuationToken(end) }],
      };
    }
    send(200, (this.options.bom ? "\uFEFF" : "") + JSON.stringify(body, null, 4).replace(/\n/g, "\r\n"));
  }

  /** POST /v1/validations/address as configured (addressValidation). */
  private validateAddress(body: string, send: (status: number, text: string) => void, error: (status: number, code: number, d: string) => void): void {
    let incoming: unknown;
    try {
      incoming = JSON.parse(stripBom(body));
    } catch {
      return error(400, 400, "The request body is not valid JSON");
    }
    if (!isJsonObject(incoming as Json)) return error(400, 400, "The request body must be an Address object");
    const part = (name: string): Json | undefined => getPath(incoming as JsonObject, [name]);
    // The original address echoed as the record shows it: camelCase, country first.
    const original: JsonObject = {};
    for (const name of ["country", "city", "state", "addressLine1", "addressLine2", "postalCode"]) {
      const value = part(name);
      if (value !== undefined && value !== null && value !== "") original[name] = value;
    }
    const behaviour = this.options.addressValidation;
    if (behaviour.era === 2019) {
      if (behaviour.valid) return send(200, "");
      const description = JSON.stringify({
        code: "60071",
        reason: behaviour.reason ?? "ZipCityInvalid - Details: the address was corrected.",
        ...(behaviour.correctedAddress ? { corrected_address: behaviour.correctedAddress } : {}),
        object_type: "AddressValidation",
        resource_status: "Active",
      });
      return send(400, JSON.stringify({ code: 2007, description, data: [], source: "PartnerFD" }));
    }
    const none = behaviour.status === "None" || behaviour.status === "NotValidated";
    const answer: JsonObject = {
      originalAddress: original,
      suggestedAddresses: behaviour.suggestedAddresses ?? (none ? [] : [original]),
      status: behaviour.status,
      ...(behaviour.validationMessage ? { validationMessage: behaviour.validationMessage } : {}),
    };
    return send(200, JSON.stringify(answer, null, 4));
  }

  private stale(error: (status: number, code: number, d: string) => void, send: (s: number, t: string) => void): void {
    const answer = this.options.staleEtagAnswer;
    if (answer === 2055) return error(400, 2055, "Etag is no longer valid");
    if (answer === 409) return error(409, 409, "Conflict: the resource was modified");
    return send(412, JSON.stringify({ code: 412, description: "Precondition failed", data: [], source: "PartnerFD" }));
  }

  private applyFault(
    fault: Exclude<Fault, { kind: "concurrentWrite" }>,
    current: () => JsonObject,
    res: http.ServerResponse,
    recorded: RecordedRequest,
    send: (status: number, text: string, extra?: Record<string, string>, contentType?: string) => void,
    error: (status: number, code: number, d: string) => void,
  ): void {
    switch (fault.kind) {
      case "status":
        return send(fault.status, fault.body ?? JSON.stringify({ code: fault.status, description: "Injected failure", data: [], source: "PartnerFD" }), fault.headers, fault.contentType);
      case "throttle": {
        const wait = fault.retryAfterSeconds;
        const message = `Rate limit is exceeded. Try again in ${wait ?? 1} seconds.`;
        return send(429, JSON.stringify({ statusCode: 429, message }), wait === undefined ? {} : { "Retry-After": String(wait) });
      }
      case "html":
        return send(fault.status, "<html><body><h1>Service Unavailable</h1></body></html>", {}, "text/html");
      case "malformed":
        return send(200, fault.body);
      case "stale":
        return this.stale(error, send);
      case "reset":
        recorded.status = -1;
        res.socket?.destroy();
        return;
      case "timeout":
        recorded.status = -2;
        return; // never answers; stop() destroys the socket
      case "truncated": {
        recorded.status = 200;
        const text = toJsonText(current(), 4);
        const cut = text.slice(0, Math.floor(text.length / 2));
        if (fault.framing === "complete") return send(200, cut);
        res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
        res.write(cut);
        setTimeout(() => res.socket?.destroy(), 5);
        return;
      }
    }
  }

  /** A small HTTP API so the `billing-sync simulator` process can be driven from outside. */
  private admin(method: string, path: string, body: string, res: http.ServerResponse, recorded: RecordedRequest): void {
    const reply = (status: number, value: unknown) => {
      recorded.status = status;
      const text = toJsonText(value as Json);
      res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
      res.end(text);
    };
    const parse = (): unknown => {
      try {
        return JSON.parse(body);
      } catch {
        return undefined;
      }
    };
    const route = `${method} ${path.slice(ADMIN_PREFIX.length)}`;
    if (route === "GET /profile") return reply(200, this.getProfile());
    if (route === "PATCH /options") {
      // What a separate simulator process can be told: ETags on or off, the address validation's answer.
      const value = parse() as Pick<SimulatorOptions, "etags" | "addressValidation"> | undefined;
      if (!value || typeof value !== "object") return reply(400, { error: "body must be {etags?, addressValidation?}" });
      this.configure({ ...(typeof value.etags === "boolean" ? { etags: value.etags } : {}), ...(value.addressValidation ? { addressValidation: value.addressValidation } : {}) });
      return reply(200, { etags: this.options.etags, addressValidation: this.options.addressValidation });
    }
    if (route === "PUT /profile") {
      let value: unknown;
      try {
        value = parseJsonText(body, { maxDepth: 64 });
      } catch {
        value = undefined;
      }
      if (!isJsonObject(value as Json)) return reply(400, { error: "body must be a JSON object" });
      this.setProfile(value as JsonObject);
      return reply(200, this.getProfile());
    }
    if (route === "POST /faults") {
      const value = parse() as FaultRule | undefined;
      if (!value || typeof value !== "object" || !value.fault) return reply(400, { error: "body must be a FaultRule {method?, times?, fault}" });
      this.inject(value);
      return reply(202, { queued: this.rules.length });
    }
    if (route === "DELETE /faults") {
      this.clearFaults();
      return reply(200, { queued: 0 });
    }
    if (route === "GET /requests") return reply(200, this.requests.filter((r) => !r.path.startsWith(ADMIN_PREFIX)));
    return reply(404, { error: `no such simulator route: ${route}` });
  }
}
