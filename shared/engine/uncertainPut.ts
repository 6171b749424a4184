import { type DesiredState, type FieldChange, type LiveProfile, planChanges } from "../model";
import { isSyncError, type Logger } from "../core";
import type { CallRecord } from "../partnerCenter";
import type { HistoryRecord, HistoryStore } from "../stores";

/**
 * A PUT whose answer never came may have landed. The run keeps what such a PUT may have
 * changed and the profile before the first of them, never replaced by a later pass: a
 * re-plan after a lost answer starts from a profile our own PUT may already have changed,
 * and the old value would be gone. The run ends `uncertain` when no later read settled it;
 * the next run reads the live profile and records in that row whether the change is there.
 */

/** Errors of a PUT that say nothing about whether it was applied. */
const NO_ANSWER = new Set(["NetworkError", "Timeout", "ServiceUnavailable", "Aborted"]);

/** A PUT attempt with no answer we could trust: the update may or may not have landed. */
export function answerLost(call: CallRecord): boolean {
  return call.method === "PUT" && call.errorCode !== undefined && NO_ANSWER.has(call.errorCode);
}

/**
 * After a PUT threw: did it (maybe) go out without an answer? Any attempt of it lost, or the
 * error itself one that carries no answer (a run stopped while the PUT was on the wire).
 */
export function putMayHaveLanded(putCalls: readonly CallRecord[], err: unknown): boolean {
  if (putCalls.some(answerLost)) return true;
  return isSyncError(err) && NO_ANSWER.has(err.code) && putCalls.some((c) => c.method === "PUT");
}

/** Earlier changes and later ones, by field: the value first seen before us, the value last sent. */
export function mergeChanges(earlier: readonly FieldChange[], later: readonly FieldChange[]): FieldChange[] {
  const byField = new Map(earlier.map((c) => [c.field, c]));
  for (const c of later) {
    const first = byField.get(c.field);
    byField.set(c.field, { field: c.field, from: first?.from ?? c.from, to: c.to });
  }
  return [...byField.values()].sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
}

/** Of the changes a PUT may have made, those the live profile holds now. Pure. */
export function changesPresent(desired: DesiredState, sent: readonly FieldChange[], live: LiveProfile): FieldChange[] {
  const wanted = { ...desired, fields: new Map(sent.map((c) => [c.field, c.to])) };
  const missing = new Set(planChanges(wanted, live).map((c) => c.field));
  return sent.filter((c) => !missing.has(c.field));
}

/** How many recent rows are looked at for an unsettled `uncertain` run. */
const LOOK_BACK = 5;

/**
 * The latest `uncertain` run of a target that no run has settled yet, read in full (its
 * sent values). Started with the run's first reads, so it adds no wait to a run.
 */
export async function findUnsettled(history: Pick<HistoryStore, "list" | "get">, target: string): Promise<HistoryRecord | undefined> {
  const recent = await history.list(target, { limit: LOOK_BACK, columns: "summary" });
  const open = recent.find((r) => r.outcome === "uncertain" && r.resolvedBy === undefined);
  return open && history.get(target, open.runId);
}

/**
 * The next run settles an `uncertain` run of its target: with the live profile it has just
 * read, it records in that row whether the change is there (PutMade, ResolvedBy). The
 * values compared are the ones sent: personal ones from ValuesSent, the rest from Changes.
 * Best effort: a failure is logged and the row stays `uncertain` for the next run.
 */
export async function settleUncertain(
  history: Pick<HistoryStore, "settle">,
  open: Promise<HistoryRecord | undefined>,
  desired: DesiredState,
  live: LiveProfile,
  byRunId: string,
  log: Logger,
): Promise<string | undefined> {
  try {
    const record = await open;
    if (!record) return undefined;
    const sent = sentChanges(record);
    const landed = sent.length > 0 && changesPresent(desired, sent, live).length === sent.length;
    await history.settle(record, { putMade: landed, resolvedBy: byRunId });
    return `Run ${record.runId} ended uncertain (its PUT's answer was lost); this run read the profile: the change ${landed ? "is there (PutMade now true: restore can undo it)" : "is not there (PutMade false)"}.`;
  } catch (err) {
    log.warn(`Could not settle an uncertain run of ${desired.target}; the next run tries again: ${isSyncError(err) ? err.code : "error"}`);
    return undefined;
  }
}

/** The values a recorded PUT sent: masked personal values come from ValuesSent. */
function sentChanges(record: HistoryRecord): FieldChange[] {
  return record.changes.map((c) => ({ ...c, to: record.valuesSent?.[c.field] ?? c.to }));
}
