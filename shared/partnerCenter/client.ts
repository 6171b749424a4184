import { createHash, randomUUID } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { TokenCredential } from "@azure/core-auth";
import axios, { type AxiosInstance, type AxiosResponse } from "axios";
import {
  AttemptError,
  GUID,
  isRetryableStatus,
  type JsonObject,
  numericCode,
  parseRetryAfter,
  readJsonObject,
  registerSecret,
  DEFAULT_RETRY_POLICY,
  type RetryLoopOptions,
  type Semaphore,
  stripBom,
  SyncError,
  type SyncErrorCode,
  toJsonText,
  USER_AGENT,
  withRetry,
} from "../core";
import {
  type AddressValidation,
  type CountryRules,
  type LiveProfile,
  parseAddressValidation2007,
  parseAddressValidationBody,
  parseCountryRules,
  parseProfile,
  type PostalAddress,
  Redactor,
  type ResourceRef,
} from "../model";
import { processCallGate } from "./callGate";
import { CUSTOMERS_PATH, type CustomerPage, MAX_CUSTOMER_PAGE_SIZE, parseCustomerPage } from "./customers";
import { RateController, type RateControllerOptions, type RateTicket } from "./rateController";
import { PROCESS_RESPONSE_CACHE, type ResponseCache } from "./responseCache";

export const COUNTRY_RULES_PATH = "/v1/countryvalidationrules";
export const ADDRESS_VALIDATION_PATH = "/v1/validations/address";

type Method = "GET" | "PUT" | "POST";

export interface PartnerCenterClientOptions {
  baseUrl: string;
  credential: TokenCredential;
  /** Delegated scope, `{API base}/user_impersonation`. */
  scope: string;
  locale?: string;
  applicationName?: string;
  /** One HTTP attempt. */
  timeoutInMs?: number;
  retry?: Omit<RetryLoopOptions, "abortSignal">;
  /** Called once per HTTP attempt, success or not: dependency telemetry hangs here. */
  onCall?: (call: CallRecord) => void;
  /** Limits requests in flight; default the process's gate (see ./callGate), shared by every client. */
  gate?: Semaphore;
  /** Pacing of this account's calls (see RateController): the known limit, or where to look for it. */
  rate?: RateControllerOptions;
  /** Where country rules and address verdicts are kept (default: one cache per process, a day). */
  cache?: ResponseCache;
}

export interface CallOptions {
  /** One per run, on every call of the run. */
  correlationId: string;
  abortSignal?: AbortSignal;
  /** Called once per HTTP attempt of this call, failed ones included. */
  onCall?: (call: CallRecord) => void;
  /**
   * The run's personal values: Partner Center's error text is shown only through it. Without
   * one (or before the run read the profile) the text is withheld and only its code kept.
   */
  redactor?: Redactor;
  /**
   * Waiting for the account's call rate (a pacing slot, a Retry-After) longer than this is
   * not done here: the call fails Throttled with retryAfterInMs, for the caller to come
   * back later (a queue message). Unset: wait, as the CLI and the timer do.
   */
  maxThrottleWaitInMs?: number;
}

export interface ListCustomersOptions extends CallOptions {
  /** 1-500; default 500, the service's largest. */
  pageSize?: number;
  maxPages?: number;
}

export interface UpdateProfileOptions extends CallOptions {
  /** The ETag of the GET this PUT is built from (it is also in the body); none for an unguarded write. */
  etag: string | undefined;
}

/** What one HTTP attempt was and what the service said about it; safe to log (no token, no body). */
export interface CallRecord {
  method: Method;
  /** Without the query (a continuation token is no one's business). */
  path: string;
  /** The method and path with ids as placeholders: one name per operation, not per customer. */
  operation: string;
  status?: number;
  /** Ours, sent as MS-RequestId; the same across retries of one request. */
  requestId: string;
  correlationId: string;
  /** What the service echoed or added (MS-CV, MS-ServerId). */
  msCv?: string;
  msServerId?: string;
  attempt: number;
  startedAt: string;
  durationMs: number;
  errorCode?: string;
  /**
   * The request left for the server (it may or may not have arrived): false while it waited
   * for a slot or a token, or when the connection was never made (refused, no such host).
   */
  sent?: boolean;
}

export interface ProfileResponse {
  profile: LiveProfile;
  requestId: string;
  calls: CallRecord[];
}

/** A country's rules; undefined when Partner Center has none for it (404). `cached`: no call was made. */
export interface CountryRulesResponse {
  rules?: CountryRules;
  cached: boolean;
}

export interface AddressValidationResponse {
  validation: AddressValidation;
  cached: boolean;
}

interface HttpRequest {
  method: Method;
  /** Path and query under the API base. */
  path: string;
  /** How telemetry names the call (see CallRecord.operation). */
  operation: string;
  data?: string;
  headers?: Record<string, string>;
}

/** If-Match wants a quoted entity tag; the service's ETags come bare (numeric strings) or already quoted. */
export function quoteEtag(etag: string): string {
  return /^(W\/)?".*"$/.test(etag) ? etag : `"${etag.replace(/"/g, "")}"`;
}

/** A path for messages and records: without the query. */
function shown(path: string): string {
  return path.split("?")[0];
}

/** An answer as the readers see it: status, body text, where it came from. */
interface Answer {
  response: AxiosResponse<string>;
  text: string;
  where: { statusCode: number; correlationId: string; requestId: string };
}

const MAX_BODY_BYTES = 1024 * 1024;

function header(response: AxiosResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return typeof value === "string" ? value : Array.isArray(value) ? String(value[0]) : undefined;
}

/**
 * An id header the service sets (MS-CV, MS-ServerId) or echoes (MS-RequestId): it reaches
 * history and telemetry dimensions, so only id-shaped values are kept.
 */
function idHeader(response: AxiosResponse, name: string, shape = /^[A-Za-z0-9+/=._:-]{1,100}$/): string | undefined {
  const value = header(response, name);
  return value !== undefined && shape.test(value) ? value : undefined;
}

interface ServiceErrorBody {
  serviceCode?: string;
  /** Our own words for a body that is no error document (an HTML page). */
  kind?: string;
  /** The service's own text (description and data), unmasked: for the run's Redactor only. */
  said?: string;
}

/** `data` is a list of strings or objects (field names, a validation result): a few, as text. */
function dataText(data: unknown): string {
  const items = Array.isArray(data) ? data.slice(0, 5) : data === undefined || data === null ? [] : [data];
  return items.map((item) => (typeof item === "string" ? item : JSON.stringify(item))).join("; ");
}

function readErrorBody(text: string, contentType: string | undefined): ServiceErrorBody {
  if (/html/i.test(contentType ?? "") || /^\s*</.test(text)) return { kind: "an HTML error page" };
  try {
    const body = JSON.parse(stripBom(text)) as Record<string, unknown>;
    const description = body.description ?? body.message ?? body.error_description;
    const data = dataText(body.data);
    const said = [typeof description === "string" ? description : "", data && `data: ${data}`].filter(Boolean).join(" ");
    // The code reaches telemetry as a dimension: a number, or nothing.
    return { serviceCode: numericCode(body.code ?? body.errorCode), said: said || undefined };
  } catch {
    return {};
  }
}

function errorCodeFor(status: number, serviceCode: string | undefined, method: Method): SyncErrorCode {
  // Only a write carries an ETag: the same answers to a GET are a service error, not a race.
  if (method === "PUT" && (status === 409 || status === 412 || (status === 400 && serviceCode === "2055"))) return "StaleEtag";
  if (status === 401) return "Unauthorized";
  if (status === 403) return "Forbidden";
  if (status === 404) return "NotFound";
  if (status === 429) return "Throttled";
  if (status === 408) return "Timeout";
  if (status >= 500) return "ServiceUnavailable";
  return "PartnerCenterError";
}

function hintFor(code: SyncErrorCode, serviceCode: string | undefined): string {
  if (code === "Unauthorized" && serviceCode === "900421") {
    return " MFA is missing: the token has no MFA claim, and the billing profile needs App+User credentials from a user who signed in with MFA. Consent again with `billing-sync auth login`, signing in with MFA.";
  }
  if (code === "Unauthorized") return " Check the access token or consent again with `billing-sync auth login`.";
  if (code === "Forbidden") return " The signed-in user needs the Partner Center admin agent or billing admin role.";
  return "";
}

/** Transport failures before any byte of the request reached a server. */
const NEVER_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

const NETWORK_WORDS: Record<string, string> = {
  ECONNRESET: "the connection was reset",
  ECONNREFUSED: "the connection was refused",
  ECONNABORTED: "the request timed out",
  ETIMEDOUT: "the request timed out",
  ENOTFOUND: "the host name did not resolve",
  EAI_AGAIN: "the host name lookup failed",
  ERR_FR_MAX_CONTENT_LENGTH_EXCEEDED: "the response was larger than 1 MiB",
  ERR_RESPONSE_TOO_LARGE: "the response was larger than 1 MiB",
  ERR_RESPONSE_ABORTED: "the connection closed before the whole body arrived",
};

/**
 * The transport failure as a code. Axios reports a body cut off by a dropped connection
 * and a body over maxContentLength with one code (ERR_BAD_RESPONSE); only the first is
 * worth a retry, so they are told apart by axios's fixed message (no request data in it).
 */
function transportCode(err: unknown): string {
  const code = typeof (err as { code?: unknown }).code === "string" ? (err as { code: string }).code : "UNKNOWN";
  if (code !== "ERR_BAD_RESPONSE") return code;
  const message = err instanceof Error ? err.message : "";
  if (/stream has been aborted/i.test(message)) return "ERR_RESPONSE_ABORTED";
  if (/maxContentLength/i.test(message)) return "ERR_RESPONSE_TOO_LARGE";
  return code;
}

/**
 * The Partner Center client of one partner account: the billing profiles of every
 * resource kind, the customer list, country rules and address validation. Axios stays
 * inside this file: callers get parsed results or SyncError, never an axios object (whose
 * config holds the Authorization header).
 */
export class PartnerCenterClient {
  private readonly http: AxiosInstance;
  private readonly options: PartnerCenterClientOptions;
  /** Shared by every call of this account in this process. */
  readonly rate: RateController;

  constructor(options: PartnerCenterClientOptions) {
    this.options = options;
    // The retry loop's clock (tests move it on by the waits they shorten) paces the calls too.
    this.rate = new RateController({ now: options.retry?.now, ...options.rate });
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: options.timeoutInMs ?? 30_000,
      responseType: "text",
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      maxContentLength: MAX_BODY_BYTES,
      httpAgent: new http.Agent({ keepAlive: true }),
      httpsAgent: new https.Agent({ keepAlive: true }),
    });
  }

  /** GET the live profile of one resource (the partner's own, or a customer's). */
  async getProfile(resource: ResourceRef, options: CallOptions): Promise<ProfileResponse> {
    const path = resource.kind.path(resource.id);
    const request: HttpRequest = { method: "GET", path, operation: `GET ${resource.kind.pathTemplate}` };
    const { value, requestId, calls } = await this.send(request, options, (a) => this.readProfile(a, "GET", resource, options));
    return { profile: value, requestId, calls };
  }

  /**
   * PUT the whole profile back. `body` carries Attributes.Etag from this run's GET when the
   * profile had one; numbers go out exactly as they were read. Kinds that ask for it also
   * get `If-Match` with the same ETag, quoted.
   */
  async updateProfile(resource: ResourceRef, body: JsonObject, options: UpdateProfileOptions): Promise<ProfileResponse> {
    const path = resource.kind.path(resource.id);
    const headers = resource.kind.etag.ifMatchHeader && options.etag !== undefined ? { "If-Match": quoteEtag(options.etag) } : undefined;
    const request: HttpRequest = { method: "PUT", path, operation: `PUT ${resource.kind.pathTemplate}`, data: toJsonText(body), headers };
    const { value, requestId, calls } = await this.send(request, options, (a) => this.readProfile(a, "PUT", resource, options));
    return { profile: value, requestId, calls };
  }

  /**
   * Every customer of the account, page by page (links.next with MS-ContinuationToken).
   * Stops at `maxPages` and when a continuation token comes back a second time.
   */
  async *listCustomers(options: ListCustomersOptions): AsyncGenerator<CustomerPage> {
    const size = Math.min(MAX_CUSTOMER_PAGE_SIZE, Math.max(1, options.pageSize ?? MAX_CUSTOMER_PAGE_SIZE));
    let next: CustomerPage["next"] = { path: `${CUSTOMERS_PATH}?size=${size}`, headers: {} };
    const seen = new Set<string>();
    for (let page = 0; next; page++) {
      if (page >= (options.maxPages ?? 10_000)) throw new SyncError("PartnerCenterError", `The customer list did not end after ${page} pages; paging stopped.`);
      const token = next.headers["MS-ContinuationToken"];
      if (token !== undefined && seen.has(token)) throw new SyncError("PartnerCenterError", "The customer list sent the same continuation token twice; paging stopped.");
      if (token !== undefined) seen.add(token);
      const request: HttpRequest = { method: "GET", path: next.path, operation: `GET ${CUSTOMERS_PATH}`, headers: next.headers };
      const { value } = await this.send(request, options, (a) => {
        if (a.response.status >= 200 && a.response.status < 300) return parseCustomerPage(a.text, `GET ${CUSTOMERS_PATH}`, a.where);
        return this.fail(a, "GET", CUSTOMERS_PATH, options);
      });
      yield value;
      next = value.next;
    }
  }

  /** GET /v1/countryvalidationrules/{iso2}, kept a day per API base URL and country. */
  async getCountryRules(iso2: string, options: CallOptions): Promise<CountryRulesResponse> {
    if (!/^[A-Z]{2}$/.test(iso2)) throw new SyncError("ResponseParseError", `The profile's country ${JSON.stringify(iso2.slice(0, 10))} is not an ISO 3166 alpha-2 code; its rules cannot be read.`);
    const path = `${COUNTRY_RULES_PATH}/${iso2}`;
    const { value, cached } = await this.cache.getOrLoad(`rules|${this.options.baseUrl}|${iso2}`, async () => {
      const read = (a: Answer): CountryRules | undefined => {
        if (a.response.status === 404) return undefined;
        if (a.response.status >= 200 && a.response.status < 300) return parseCountryRules(a.text, iso2, a.where);
        return this.fail(a, "GET", path, options);
      };
      return (await this.send({ method: "GET", path, operation: `GET ${COUNTRY_RULES_PATH}/{iso2}` }, options, read)).value;
    });
    return { rules: value, cached };
  }

  /**
   * POST /v1/validations/address. Reads both answers the public record shows: the 2021
   * AddressValidationResponse, and the 2019 one (200 with no body: valid; 400 with code
   * 2007: invalid, with a corrected address). Verdicts are kept a day per address.
   */
  async validateAddress(address: PostalAddress, options: CallOptions): Promise<AddressValidationResponse> {
    const data = JSON.stringify(address);
    const key = `address|${this.options.baseUrl}|${createHash("sha256").update(data).digest("hex")}`;
    const { value, cached } = await this.cache.getOrLoad(key, async () => {
      const read = (a: Answer): AddressValidation => {
        const status = a.response.status;
        if (status >= 200 && status < 300) {
          return stripBom(a.text).trim() === "" ? { status: "Valid", era: 2019, suggestions: [] } : parseAddressValidationBody(a.text, address, a.where);
        }
        const body = status === 400 ? readJsonObject(a.text) : undefined;
        if (body && "value" in body && String(body.value.code) === "2007") {
          const description = body.value.description;
          return parseAddressValidation2007(typeof description === "string" ? description : undefined);
        }
        return this.fail(a, "POST", ADDRESS_VALIDATION_PATH, options);
      };
      return (await this.send({ method: "POST", path: ADDRESS_VALIDATION_PATH, operation: `POST ${ADDRESS_VALIDATION_PATH}`, data }, options, read)).value;
    });
    return { validation: value, cached };
  }

  private get cache(): ResponseCache {
    return this.options.cache ?? PROCESS_RESPONSE_CACHE;
  }

  private async send<T>(request: HttpRequest, options: CallOptions, read: (answer: Answer) => T): Promise<{ value: T; requestId: string; calls: CallRecord[] }> {
    const requestId = randomUUID();
    const calls: CallRecord[] = [];
    // The pace's waits count against the request's budget (120 s by default) like the retry waits.
    const clock = this.options.retry?.now ?? Date.now;
    const deadline = clock() + { ...DEFAULT_RETRY_POLICY, ...this.options.retry?.policy }.totalTimeoutInMs;
    const value = await withRetry(
      async (attempt) => {
        // The account's pace: a slot, and no call during a Retry-After pause. A caller that
        // will not wait that long gets Throttled here, before anything is sent or recorded.
        const maxWaitInMs = Math.max(0, Math.min(options.maxThrottleWaitInMs ?? Infinity, deadline - clock()));
        const ticket = await this.rate.acquire({ abortSignal: options.abortSignal, maxWaitInMs });
        const startedAt = new Date();
        const call: CallRecord = {
          method: request.method,
          path: shown(request.path),
          operation: request.operation,
          requestId,
          correlationId: options.correlationId,
          attempt,
          startedAt: startedAt.toISOString(),
          durationMs: 0,
          sent: false,
        };
        try {
          const response = await this.attempt(request, requestId, options, ticket, call);
          call.status = response.status;
          call.msCv = idHeader(response, "MS-CV");
          call.msServerId = idHeader(response, "MS-ServerId");
          const where = {
            statusCode: response.status,
            correlationId: idHeader(response, "MS-CorrelationId", GUID) ?? options.correlationId,
            requestId: idHeader(response, "MS-RequestId", GUID) ?? requestId,
          };
          return read({ response, text: typeof response.data === "string" ? response.data : "", where });
        } catch (err) {
          if (err instanceof AttemptError) call.errorCode = err.error.code;
          else if (err instanceof SyncError) call.errorCode = err.code;
          // Throttled, and the wait is longer than this caller takes: hand it back instead of sleeping.
          if (err instanceof AttemptError && err.failure.status === 429 && options.maxThrottleWaitInMs !== undefined && (err.failure.retryAfterInMs ?? Infinity) > options.maxThrottleWaitInMs) {
            throw err.error;
          }
          throw err;
        } finally {
          call.durationMs = Date.now() - startedAt.getTime();
          calls.push(call);
          options.onCall?.(call);
          this.options.onCall?.(call);
        }
      },
      { ...this.options.retry, abortSignal: options.abortSignal },
    );
    return { value, requestId, calls };
  }

  private async attempt(request: HttpRequest, requestId: string, options: CallOptions, ticket: RateTicket, call?: CallRecord): Promise<AxiosResponse<string>> {
    const { method, path, data } = request;
    const token = await this.options.credential.getToken(this.options.scope, { abortSignal: options.abortSignal });
    if (!token) throw new SyncError("AuthError", "The credential returned no access token.");
    // Whatever credential gave it: from now on no text we store or show may hold it.
    registerSecret(token.token);
    const where = { correlationId: options.correlationId, requestId };
    try {
      const response = await (this.options.gate ?? processCallGate()).run(() => {
        if (call) call.sent = !options.abortSignal?.aborted;
        return this.http.request<string>({
        method,
        url: path,
        data,
        signal: options.abortSignal,
        headers: {
          ...request.headers,
          Authorization: `Bearer ${token.token}`,
          Accept: "application/json",
          ...(data === undefined ? {} : { "Content-Type": "application/json; charset=utf-8" }),
          "MS-CorrelationId": options.correlationId,
          "MS-RequestId": requestId,
          "MS-Contract-Version": "v1",
          "X-Locale": this.options.locale ?? "en-US",
          "MS-PartnerCenter-Application": this.options.applicationName ?? "partner-billing-sync",
          // Not axios's own: the service's logs say which build called.
          "User-Agent": USER_AGENT,
        },
      });
      }, options.abortSignal);
      if (response.status === 429) this.rate.onThrottled(ticket, parseRetryAfter(response.headers as Record<string, unknown>, Date.now()));
      else this.rate.onSuccess(ticket);
      return response;
    } catch (err) {
      // Build a fresh error from the code alone: the axios error's config holds the token.
      const networkCode = transportCode(err);
      if (options.abortSignal?.aborted || networkCode === "ERR_CANCELED") {
        throw new SyncError("Aborted", `${method} ${shown(path)} was aborted.`, where);
      }
      // No connection, no request: a request id the server never saw would send an operator looking for it.
      const neverSent = NEVER_SENT.has(networkCode);
      if (neverSent && call) call.sent = false;
      const words = NETWORK_WORDS[networkCode] ?? "the request failed";
      const code: SyncErrorCode = networkCode === "ECONNABORTED" || networkCode === "ETIMEDOUT" ? "Timeout" : "NetworkError";
      const error = new SyncError(code, `${method} ${shown(path)} failed: ${words} (${networkCode}).`, neverSent ? { correlationId: where.correlationId } : where);
      throw new AttemptError(error, { networkCode });
    }
  }

  private readProfile(answer: Answer, method: "GET" | "PUT", resource: ResourceRef, options: CallOptions): LiveProfile {
    const path = resource.kind.path(resource.id);
    if (answer.response.status >= 200 && answer.response.status < 300) return parseProfile(answer.text, `${method} ${path}`, answer.where, resource.kind);
    return this.fail(answer, method, path, options);
  }

  /** A non-2xx answer as the error the retry loop decides on; the service's text only through the run's Redactor. */
  private fail(answer: Answer, method: Method, path: string, options: CallOptions): never {
    const { response, text, where } = answer;
    const body = readErrorBody(text, header(response, "Content-Type"));
    const serviceCode = body.serviceCode;
    const description = body.kind ?? (options.redactor ?? new Redactor()).outside(body.said);
    const code = errorCodeFor(response.status, serviceCode, method);
    const detail = [serviceCode && `code ${serviceCode}`, description].filter(Boolean).join(": ");
    const retryAfterInMs = parseRetryAfter(response.headers as Record<string, unknown>, Date.now());
    const error = new SyncError(
      code,
      `Partner Center answered ${response.status} to ${method} ${shown(path)}${detail ? ` (${detail})` : ""}.${hintFor(code, serviceCode)}`,
      { ...where, serviceCode, description, retryable: isRetryableStatus(response.status), retryAfterInMs },
    );
    throw new AttemptError(error, { status: response.status, retryAfterInMs });
  }
}
