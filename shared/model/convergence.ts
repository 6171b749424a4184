import { createHash } from "node:crypto";
import { normalise } from "./compare";
import type { DesiredState } from "./desired";
import { planChanges, type FieldChange } from "./diff";
import { anyFieldNamed } from "./kinds";
import { maskChange } from "./mask";
import type { LiveProfile } from "./profile";
import type { ResourceKind } from "./resource";

/**
 * A field the service did not take as sent: we PUT `desired` and it kept `service`.
 * Hashes (not values) let later runs recognise the same situation without storing
 * personal data; the masked values are for people.
 */
export interface NotConvergedField {
  field: string;
  desiredHash: string;
  serviceHash: string;
  /** Masked for personal fields. */
  desired: string;
  service: string;
}

export interface ContestedField {
  field: string;
  /** Corrections of this field within the window, this run included. */
  count: number;
  /** Time of the first of them. */
  since: string;
}

export interface ContestPolicy {
  windowInMs: number;
  threshold: number;
}

/** Three corrections of one field within a day: someone keeps reverting it. */
export const DEFAULT_CONTEST_POLICY: Readonly<ContestPolicy> = { windowInMs: 24 * 60 * 60 * 1000, threshold: 3 };

export function valueHash(fieldName: string, value: string, kind?: ResourceKind): string {
  const field = kind ? kind.fieldsByName.get(fieldName) : anyFieldNamed(fieldName);
  const normalised = field ? normalise(field, value) : value;
  return createHash("sha256").update(`${fieldName}\u0000${normalised}`).digest("hex").slice(0, 32);
}

function notConverged(change: FieldChange, kind: ResourceKind): NotConvergedField {
  const masked = maskChange(change, kind);
  return {
    field: change.field,
    desiredHash: valueHash(change.field, change.to, kind),
    serviceHash: valueHash(change.field, change.from, kind),
    desired: masked.to,
    service: masked.from,
  };
}

/**
 * Splits planned changes into those to PUT and those a previous run already PUT without
 * effect: while neither the desired nor the live value has changed since, sending the
 * same change again would only repeat the failure.
 */
export function splitSuppressed(
  changes: readonly FieldChange[],
  memory: readonly NotConvergedField[],
  kind?: ResourceKind,
): { apply: FieldChange[]; suppressed: NotConvergedField[] } {
  const apply: FieldChange[] = [];
  const suppressed: NotConvergedField[] = [];
  for (const change of changes) {
    const known = memory.find((m) => m.field === change.field);
    if (known && known.desiredHash === valueHash(change.field, change.to, kind) && known.serviceHash === valueHash(change.field, change.from, kind)) {
      suppressed.push(known);
    } else {
      apply.push(change);
    }
  }
  return { apply, suppressed };
}

/** Fields we PUT that the service's answer does not hold: it rewrote or silently refused them. */
export function residualAfterPut(desired: DesiredState, applied: readonly FieldChange[], response: LiveProfile): NotConvergedField[] {
  const sent = new Set(applied.map((c) => c.field));
  return planChanges(desired, response)
    .filter((c) => sent.has(c.field))
    .map((c) => notConverged(c, desired.resource.kind));
}

export interface CorrectionRecord {
  outcome: string;
  dryRun: boolean;
  changedFields: string[];
  startedAt: string;
  /**
   * Per corrected field, the hash of the desired value the run enforced (valueHash). Absent
   * in rows written before it was kept: such a correction is taken as against the same value.
   */
  desiredHashes?: Record<string, string>;
}

/** The hashes of the desired values a correction enforced, for its history row (see findContested). */
export function desiredHashesOf(changes: readonly FieldChange[], kind?: ResourceKind): Record<string, string> | undefined {
  return changes.length ? Object.fromEntries(changes.map((c) => [c.field, valueHash(c.field, c.to, kind)])) : undefined;
}

/**
 * Fields corrected again and again within the window (newest record first, the current
 * run included by the caller): a sign that another writer keeps reverting them. Only
 * corrections against one unchanged desired value count: walking back from the newest,
 * a field's count stops at a correction that enforced another desired value, since the
 * correction after a change of the desired state (`desired set`, `restore --apply`, an
 * edit in Storage Explorer) is the change taking effect, not a fight.
 */
export function findContested(records: readonly CorrectionRecord[], now: Date, policy: ContestPolicy = DEFAULT_CONTEST_POLICY): ContestedField[] {
  const start = now.getTime() - policy.windowInMs;
  const byField = new Map<string, { count: number; since: string; hash?: string; closed: boolean }>();
  for (const r of records) {
    if (r.dryRun || r.outcome !== "corrected" || Date.parse(r.startedAt) < start) continue;
    for (const field of r.changedFields) {
      const hash = r.desiredHashes?.[field];
      const seen = byField.get(field);
      if (!seen) {
        byField.set(field, { count: 1, since: r.startedAt, hash, closed: false });
        continue;
      }
      if (seen.closed) continue;
      if (hash !== undefined && seen.hash !== undefined && hash !== seen.hash) {
        seen.closed = true;
        continue;
      }
      seen.hash ??= hash;
      seen.count++;
      if (r.startedAt < seen.since) seen.since = r.startedAt;
    }
  }
  return [...byField]
    .filter(([, v]) => v.count >= policy.threshold)
    .map(([field, v]) => ({ field, count: v.count, since: v.since }))
    .sort((a, b) => (a.field < b.field ? -1 : 1));
}
