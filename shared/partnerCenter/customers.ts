import { GUID, getPath, isJsonObject, type Json, readJsonObject, SyncError, type SyncErrorOptions } from "../core";

/**
 * GET /v1/customers, page by page (partner-center-api-wave2.md §2): the first page is
 * `/v1/customers?size=N`; each next page is `links.next.uri` with the link's
 * MS-ContinuationToken header; the last page has no `links.next`.
 */
export const CUSTOMERS_PATH = "/v1/customers";
/** The service's page maximum (Java SDK MAX_PAGE_SIZE, PCM ValidateRange; the default next link carries size=500). */
export const MAX_CUSTOMER_PAGE_SIZE = 500;
const CONTINUATION_HEADER = "MS-ContinuationToken";

export interface CustomerSummary {
  /** The customer's tenant id, lower-cased: what its billing profile's path takes. */
  id: string;
  companyName?: string;
  domain?: string;
}

export interface CustomerPage {
  customers: CustomerSummary[];
  /** Items without a usable tenant id (left out, counted). */
  skipped: number;
  /** The next request, already normalised; absent on the last page. */
  next?: { path: string; headers: Record<string, string> };
}

/**
 * links.next.uri as a path under our API base. The service has sent it without a version
 * (`/customers?...`), with one (`/v1/customers?...`), and, for a while in November 2021, as
 * an absolute URL with the version twice (`https://…/v1//v1/customers?...`); the SDKs
 * prefix `/v1` only when it is missing, and PowerShell replaced `v1//v1`. Only the path and
 * query are kept: the token never goes to a host named by a response. A link that leads
 * anywhere but the customer list is refused.
 */
export function nextPath(uri: string): string {
  let pathAndQuery = uri.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(pathAndQuery)) {
    const url = new URL(pathAndQuery);
    pathAndQuery = `${url.pathname}${url.search}`;
  }
  const [rawPath, ...rest] = pathAndQuery.split("?");
  let path = `/${rawPath}`.replace(/\/{2,}/g, "/");
  path = path.replace(/^(\/v1)+(?=\/)/i, "");
  path = `/v1${path}`;
  if (!/^\/v1\/customers\/?$/i.test(path)) {
    throw new SyncError("ResponseParseError", `The customer list's next link leads to ${path.slice(0, 80)}, not to ${CUSTOMERS_PATH}; paging stopped.`, { retryable: false });
  }
  return rest.length > 0 ? `${path}?${rest.join("?")}` : path;
}

function str(value: Json | undefined): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** One page of the customer list, read strictly: a page we cannot read stops paging (nothing is built from it). */
export function parseCustomerPage(text: string, what: string, context: SyncErrorOptions = {}): CustomerPage {
  const fail = (problem: string) => new SyncError("ResponseParseError", `The ${what} response body ${problem}.`, { ...context, retryable: false });
  const read = readJsonObject(text);
  if ("problem" in read) throw fail(`is ${read.problem}`);
  const parsed = read.value;
  const items = getPath(parsed, ["items"]);
  if (!Array.isArray(items)) throw fail("has no items array");
  const customers: CustomerSummary[] = [];
  let skipped = 0;
  for (const item of items) {
    if (!isJsonObject(item)) {
      skipped++;
      continue;
    }
    // The id is the customer tenant id (equal to companyProfile.tenantId in every example).
    const id = str(getPath(item, ["id"])) ?? str(getPath(item, ["companyProfile", "tenantId"]));
    if (id === undefined || !GUID.test(id)) {
      skipped++;
      continue;
    }
    customers.push({ id: id.toLowerCase(), companyName: str(getPath(item, ["companyProfile", "companyName"])), domain: str(getPath(item, ["companyProfile", "domain"])) });
  }
  const link = getPath(parsed, ["links", "next"]);
  if (link === undefined || link === null) return { customers, skipped };
  const uri = isJsonObject(link) ? str(getPath(link, ["uri"])) : undefined;
  if (uri === undefined) throw fail("has links.next without a uri");
  const headers: Record<string, string> = {};
  const listed = isJsonObject(link) ? getPath(link, ["headers"]) : undefined;
  for (const h of Array.isArray(listed) ? listed : []) {
    if (!isJsonObject(h)) continue;
    const key = str(getPath(h, ["key"]));
    const value = str(getPath(h, ["value"]));
    // Only the continuation token is carried over: a response must not choose our other headers.
    if (key?.toLowerCase() === CONTINUATION_HEADER.toLowerCase() && value !== undefined) {
      if (/[\r\n]/.test(value) || value.length > 8192) throw fail("has a continuation token that cannot be sent as a header");
      headers[CONTINUATION_HEADER] = value;
    }
  }
  return { customers, skipped, next: { path: nextPath(uri), headers } };
}
