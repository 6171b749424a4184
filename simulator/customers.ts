import { randomBytes } from "node:crypto";
import { getPath, type Json, type JsonObject, setPath } from "../shared/core";

/**
 * The customers of one simulated partner account, each with a billing profile
 * (partner-center-api-wave2.md §1 and §2). Ten thousand of them must cost little memory:
 * a customer is its index; its profile is generated from the index when asked, and only
 * the profiles someone wrote are kept.
 */
export interface CustomerDirectoryOptions {
  count: number;
  /** Distinguishes the tenant ids of two accounts' customers (8 hex digits); random by default. */
  prefix?: string;
}

/** How links.next.uri is written: the service changed it around 2021-11-12 (§2). */
export type NextLinkForm = "v1" | "unversioned" | "doubled" | "mixed";

const ETAG_BASE = -4242348048554929329n;

function hex12(n: number): string {
  return n.toString(16).padStart(12, "0");
}

export class CustomerDirectory {
  readonly count: number;
  private readonly prefix: string;
  /** Profiles written by a PUT or by a test, by index. */
  private readonly written = new Map<number, JsonObject>();
  private readonly etagCounters = new Map<number, number>();
  /** Indexes whose stored profile has no ETag (an unguarded profile). */
  private readonly withoutEtag = new Set<number>();

  constructor(options: CustomerDirectoryOptions) {
    this.count = options.count;
    this.prefix = (options.prefix ?? randomBytes(4).toString("hex")).toLowerCase();
  }

  /** The tenant id of customer `index` (0-based): a GUID whose last group is the index. */
  id(index: number): string {
    return `${this.prefix}-0000-4000-8000-${hex12(index)}`;
  }

  ids(): string[] {
    return Array.from({ length: this.count }, (_, i) => this.id(i));
  }

  indexOf(id: string): number | undefined {
    const match = /^([0-9a-f]{8})-0000-4000-8000-([0-9a-f]{12})$/.exec(id.toLowerCase());
    if (!match || match[1] !== this.prefix) return undefined;
    const index = parseInt(match[2], 16);
    return index < this.count ? index : undefined;
  }

  /** The profile as the service holds it now (a copy). */
  profile(index: number): JsonObject {
    const stored = this.written.get(index);
    if (stored) return structuredClone(stored);
    const profile = generatedProfile(this.id(index), index);
    this.applyEtag(index, profile);
    return profile;
  }

  /** Replaces the stored profile (a PUT, or a test setting the scene); a new ETag unless `keepEtag`. */
  store(index: number, profile: JsonObject, options: { keepEtag?: boolean } = {}): void {
    this.written.set(index, structuredClone(profile));
    if (!options.keepEtag) this.bumpEtag(index);
  }

  /** Another writer edits the profile (dotted camelCase paths); the ETag changes. */
  write(index: number, set: Record<string, Json>): void {
    const profile = this.profile(index);
    for (const [path, value] of Object.entries(set)) setPath(profile, path.split("."), value);
    this.store(index, profile);
  }

  /** From now on the profile carries no ETag (the service sent none): only unguarded writes are possible. */
  dropEtag(index: number): void {
    this.withoutEtag.add(index);
    const profile = this.profile(index);
    this.store(index, profile, { keepEtag: true });
  }

  etag(index: number): string | undefined {
    const value = getPath(this.profile(index), ["attributes", "etag"]);
    return typeof value === "string" ? value : undefined;
  }

  /** A list item as GET /v1/customers shows it: id, company profile, relationship; no billing profile. */
  listItem(index: number): JsonObject {
    const id = this.id(index);
    return {
      id,
      companyProfile: {
        tenantId: id,
        domain: `customer${index}.onmicrosoft.com`,
        companyName: `Customer ${index} Ltd`,
        attributes: { objectType: "CustomerCompanyProfile" },
      },
      relationshipToPartner: "reseller",
      attributes: { objectType: "Customer" },
    };
  }

  private bumpEtag(index: number): void {
    this.etagCounters.set(index, (this.etagCounters.get(index) ?? 0) + 1);
    const stored = this.written.get(index);
    if (stored) this.applyEtag(index, stored);
  }

  private applyEtag(index: number, profile: JsonObject): void {
    const attributes = (getPath(profile, ["attributes"]) ?? {}) as JsonObject;
    if (this.withoutEtag.has(index)) {
      delete attributes.etag;
    } else {
      // Numeric strings, as in the docs' examples ("-4242348048554929329").
      attributes.etag = String(ETAG_BASE + BigInt(index) * 1_000_000n + BigInt(this.etagCounters.get(index) ?? 0));
    }
    setPath(profile, ["attributes"], attributes);
  }
}

/** The docs' example (get-all-of-a-customer-s-billing-profiles.md), varied by index. */
function generatedProfile(id: string, index: number): JsonObject {
  const n = String(index);
  return {
    id: `b${id.slice(1)}`,
    firstName: `First${n}`,
    lastName: `Last${n}`,
    email: `billing${n}@customer${n}.example`,
    culture: "en-US",
    language: "en",
    companyName: `Customer ${n} Ltd`,
    defaultAddress: {
      country: "US",
      city: "Redmond",
      state: "WA",
      addressLine1: `${index + 1} Microsoft Way`,
      postalCode: "98052",
      firstName: `First${n}`,
      lastName: `Last${n}`,
      phoneNumber: `425555${String(index % 10000).padStart(4, "0")}`,
    },
    links: { self: { uri: `/v1/customers/${id}/profiles/billing`, method: "GET", headers: [] } },
    attributes: { objectType: "CustomerBillingProfile" },
  };
}

/** The continuation token of a customer list page: opaque to clients, an offset and a nonce here. */
export function continuationToken(offset: number): string {
  return Buffer.from(`${offset},${randomBytes(6).toString("hex")}`).toString("base64");
}

export function offsetOfToken(token: string): number | undefined {
  const text = Buffer.from(token, "base64").toString("utf8");
  const match = /^(\d+),[0-9a-f]+$/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** links.next.uri in the form asked for; `page` picks the form when they alternate ("mixed"). */
export function nextLinkUri(form: NextLinkForm, baseUrl: string, size: number, page: number): string {
  const query = `customers?size=${size}&seekOperation=Next`;
  const chosen: Exclude<NextLinkForm, "mixed"> = form === "mixed" ? (["v1", "unversioned", "doubled"] as const)[page % 3] : form;
  if (chosen === "v1") return `/v1/${query}`;
  if (chosen === "unversioned") return `/${query}`;
  // What the service sent in November 2021 (Partner-Center-PowerShell issue 379).
  return `${baseUrl}/v1//v1/${query}`;
}
