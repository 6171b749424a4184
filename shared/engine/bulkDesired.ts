import { randomUUID } from "node:crypto";
import { mapWithConcurrency, toSyncError } from "../core";
import {
  type AccountRef,
  checkDesiredEntity,
  checkTargetName,
  customerBillingProfile,
  type DesiredState,
  fieldProblem,
  KEY_PROPERTIES,
  liveValue,
  type ResourceRef,
  resourceOfEntity,
} from "../model";
import { type DesiredRow, fieldsWithReplacementCharacter } from "../stores";
import type { Engine } from "./engine";
import type { RowWrite } from "./changeGuard";
import { type WriteContext, writeContextFor, writeDesiredRow } from "./desiredWrite";

/**
 * Desired state in bulk: many rows checked together before any is written (an import),
 * every row listed (an export), and every customer's live profile taken as its desired
 * row (adopt --all-customers). Each row goes through the same validation as a single
 * `desired set`; files are read and written by the CLI.
 */

/** One row of an import file, as the file reader produced it. */
export interface RowInput {
  /** 1-based data row (header excluded). */
  row: number;
  /** The file line where the row ends, when the format has lines that differ from rows. */
  line?: number;
  /** From a Target column; absent = the kind's default name (customer-<id>, or default). */
  target?: string;
  entity: Record<string, unknown>;
}

export interface RowProblem {
  row: number;
  line?: number;
  target?: string;
  message: string;
}

export interface ImportPlan {
  rows: { row: number; target: string; entity: Record<string, unknown>; state: DesiredState }[];
  problems: RowProblem[];
}

export interface BulkProgress {
  done: number;
  total: number;
}

/** Which instance a row is about, as a key ("customer-billing-profile|<tenant id>"); undefined for single-instance kinds. */
function instanceKey(resource: ResourceRef): string | undefined {
  return resource.kind.key && resource.id !== undefined ? `${resource.kind.name}|${resource.id}` : undefined;
}

function defaultTarget(resource: ResourceRef): string {
  return resource.kind.defaultTarget(resource.id);
}

/** The rows already in the table, by target and by the instance they manage. */
async function existingRows(engine: Engine): Promise<{ byTarget: Map<string, ResourceRef>; byInstance: Map<string, string>; tenantOf: Map<string, string | undefined> }> {
  const byTarget = new Map<string, ResourceRef>();
  const byInstance = new Map<string, string>();
  /** The partner account (TenantId) of each row, by target: absent = the default account. */
  const tenantOf = new Map<string, string | undefined>();
  for await (const row of engine.desired.rows({ select: [...KEY_PROPERTIES, "TenantId"] })) {
    const resource = resourceOfEntity(row.properties);
    byTarget.set(row.target, resource);
    tenantOf.set(row.target, typeof row.properties.TenantId === "string" ? row.properties.TenantId.trim().toLowerCase() : undefined);
    const key = instanceKey(resource);
    if (key) byInstance.set(key, row.target);
  }
  return { byTarget, byInstance, tenantOf };
}

/**
 * Checks every row before anything is written: each row's own validation, its target
 * name, a customer or target named twice in the file, a customer already managed under
 * another target, a target that holds a row of another kind.
 */
export async function planImport(engine: Engine, inputs: readonly RowInput[]): Promise<ImportPlan> {
  const existing = await existingRows(engine);
  const plan: ImportPlan = { rows: [], problems: [] };
  const targetsSeen = new Map<string, number>();
  const instancesSeen = new Map<string, number>();
  for (const input of inputs) {
    const problems: string[] = [];
    const resource = resourceOfEntity(input.entity);
    // A customer row without a valid id has no default name: its own problem says why.
    const named = input.target ?? (resource.kind.key && resource.id === undefined ? undefined : defaultTarget(resource));
    let target = named ?? "";
    let shownTarget = named;
    if (named !== undefined) {
      try {
        target = checkTargetName(named);
      } catch {
        // Not the name itself: a file's cell may hold anything, personal values included.
        problems.push("Target is not an allowed target name: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit");
        shownTarget = undefined;
      }
    }
    const checked = checkDesiredEntity(target, input.entity);
    if (!checked.ok) problems.push(...checked.problems);
    // The store would refuse the row mid-import: say so now, while nothing is written.
    const spoilt = fieldsWithReplacementCharacter(input.entity);
    if (spoilt.length > 0) problems.push(`${spoilt.join(", ")} ${spoilt.length === 1 ? "holds" : "hold"} U+FFFD, the mark of text read in the wrong encoding`);
    const key = instanceKey(resource);
    const label = resource.kind.key && resource.id ? `${resource.kind.key.property} ${resource.id}` : undefined;
    if (shownTarget !== undefined && targetsSeen.has(target)) problems.push(`target "${target}" is also in row ${targetsSeen.get(target)}`);
    if (key && instancesSeen.has(key)) problems.push(`${label} is also in row ${instancesSeen.get(key)}`);
    const managedBy = key ? existing.byInstance.get(key) : undefined;
    if (managedBy !== undefined && managedBy !== target) problems.push(`${label} is already managed by target "${managedBy}"; use that Target, or delete that row first`);
    const held = existing.byTarget.get(target);
    if (held && held.kind !== resource.kind) problems.push(`target "${target}" holds a ${held.kind.title}; a ${resource.kind.title} needs a target of its own`);
    if (shownTarget !== undefined && !targetsSeen.has(target)) targetsSeen.set(target, input.row);
    if (key && !instancesSeen.has(key)) instancesSeen.set(key, input.row);
    if (problems.length > 0 || !checked.ok) plan.problems.push({ row: input.row, line: input.line, target: shownTarget, message: problems.join("; ") });
    else plan.rows.push({ row: input.row, target, entity: input.entity, state: checked.state });
  }
  return plan;
}

/**
 * The rows an import writes, each against the row stored now: the file's row replaces it
 * whole, or with `merge` only the columns the file has are set. A merged row is checked
 * again (its problems come back as the file's).
 */
export async function importWrites(engine: Engine, plan: ImportPlan, options: { merge?: boolean } = {}): Promise<{ writes: RowWrite[]; problems: RowProblem[] }> {
  const stored = new Map<string, DesiredRow>();
  for await (const row of engine.desired.rows()) stored.set(row.target, row);
  const writes: RowWrite[] = [];
  const problems: RowProblem[] = [];
  for (const row of plan.rows) {
    const before = stored.get(row.target);
    const after = options.merge && before ? { ...before.properties, ...row.entity } : row.entity;
    if (options.merge && before) {
      const checked = checkDesiredEntity(row.target, after);
      if (!checked.ok) {
        problems.push({ row: row.row, target: row.target, message: `merged with the stored row: ${checked.problems.join("; ")}` });
        continue;
      }
    }
    writes.push({ target: row.target, before: before?.properties ?? null, etag: before?.etag, after });
  }
  return { writes, problems };
}

/** Writes the planned rows through the change log; returns how many were written (unchanged rows are not). */
export async function applyImport(
  engine: Engine,
  plan: ImportPlan,
  options: { concurrency?: number; onProgress?: (p: BulkProgress) => void; writes?: RowWrite[]; context?: WriteContext } = {},
): Promise<number> {
  const writes = options.writes ?? (await importWrites(engine, plan)).writes;
  const context = options.context ?? (await writeContextFor(engine, "desired import"));
  let done = 0;
  let written = 0;
  await mapWithConcurrency(writes, options.concurrency ?? 16, async (w) => {
    const before = w.before === null ? null : { target: w.target, properties: w.before, etag: w.etag ?? "" };
    if ((await writeDesiredRow(engine, { target: w.target, before, after: w.after }, context)).written) written++;
    options.onProgress?.({ done: ++done, total: writes.length });
  });
  return written;
}

/** Every stored row, as stored (invalid ones included, so an export loses nothing). */
export async function listDesiredRows(engine: Engine): Promise<DesiredRow[]> {
  const rows: DesiredRow[] = [];
  for await (const row of engine.desired.rows()) rows.push(row);
  return rows;
}

export interface AdoptAllOptions {
  /** The partner account whose customers (default: the app's). Written into each row when given. */
  account?: AccountRef;
  /** Read each new customer's profile and write its row; without it, only count. */
  apply?: boolean;
  concurrency?: number;
  /** Customers per list page (1-500; default 500). */
  pageSize?: number;
  /** Who writes and why, for the change log (default: this process's storage identity, no reason). */
  context?: WriteContext;
  onProgress?: (p: BulkProgress) => void;
}

export interface AdoptAllReport {
  /** Customers the list returned (items without a tenant id are counted in `skipped`). */
  listed: number;
  skipped: number;
  pages: number;
  /** Customers that already have a desired row, under any target. */
  alreadyManaged: number;
  /** Customers without one: what `--apply` writes. */
  toAdopt: number;
  adopted: number;
  /** Fields left unmanaged because their live values do not pass validation, by field name. */
  fieldsLeftOut: Record<string, number>;
  failed: { customerId: string; message: string }[];
  /** Rows of this account whose customer is no longer in the list (reported only). */
  departed: { target: string; customerId: string }[];
}

/**
 * Starts from what is there: pages through the account's customers and, for each one
 * without a desired row, writes its live billing profile as the row (every managed field
 * at its live value, Mode enforce). A live value our validation refuses (an empty
 * address line, an over-long name) leaves that field unmanaged rather than the customer
 * out. Existing rows are never replaced.
 */
export async function adoptAllCustomers(engine: Engine, options: AdoptAllOptions = {}): Promise<AdoptAllReport> {
  const kind = customerBillingProfile;
  const account = options.account ?? {};
  const { byTarget, byInstance, tenantOf } = await existingRows(engine);
  const client = engine.partnerClient(account);
  const correlationId = randomUUID();
  const report: AdoptAllReport = { listed: 0, skipped: 0, pages: 0, alreadyManaged: 0, toAdopt: 0, adopted: 0, fieldsLeftOut: {}, failed: [], departed: [] };
  const todo: string[] = [];
  const listed = new Set<string>();
  for await (const page of client.listCustomers({ correlationId, pageSize: options.pageSize })) {
    report.pages++;
    report.skipped += page.skipped;
    for (const customer of page.customers) {
      report.listed++;
      listed.add(customer.id.toLowerCase());
      if (byInstance.has(`${kind.name}|${customer.id}`)) report.alreadyManaged++;
      else todo.push(customer.id);
    }
  }
  report.toAdopt = todo.length;
  const tenant = account.tenantId?.toLowerCase();
  for (const [target, resource] of byTarget) {
    if (resource.kind !== kind || resource.id === undefined || tenantOf.get(target) !== tenant) continue;
    if (!listed.has(resource.id.toLowerCase())) report.departed.push({ target, customerId: resource.id });
  }
  if (!options.apply) return report;
  const context = options.context ?? (await writeContextFor(engine, "desired adopt --all-customers"));
  let done = 0;
  await mapWithConcurrency(todo, options.concurrency ?? 8, async (id) => {
    const resource = { kind, id };
    try {
      const live = (await client.getProfile(resource, { correlationId })).profile;
      const entity: Record<string, unknown> = { [kind.key!.property]: id, Mode: "enforce" };
      if (account.tenantId) entity.TenantId = account.tenantId;
      if (account.credentialRef) entity.CredentialRef = account.credentialRef;
      for (const field of kind.fields) {
        const value = liveValue(live, field.path).trim();
        if (fieldProblem(field, value) === undefined) entity[field.name] = value;
        else report.fieldsLeftOut[field.name] = (report.fieldsLeftOut[field.name] ?? 0) + 1;
      }
      const target = kind.defaultTarget(id);
      const checked = checkDesiredEntity(target, entity);
      if (!checked.ok) throw new Error(checked.problems.join("; "));
      try {
        await writeDesiredRow(engine, { target, before: null, after: entity }, context);
        report.adopted++;
      } catch (err) {
        // Created meanwhile by someone else: never replaced.
        if (toSyncError(err).code !== "StaleEtag") throw err;
        report.alreadyManaged++;
      }
    } catch (err) {
      report.failed.push({ customerId: id, message: toSyncError(err).message });
    } finally {
      options.onProgress?.({ done: ++done, total: todo.length });
    }
  });
  return report;
}
