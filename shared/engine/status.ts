import { type ContestedField, type ContestPolicy, findContested } from "../model";
import { type DesiredStateStore, type HistoryRecord, type HistoryStore, type LeaseInfo, type LeaseStore, type PoisonEntry, type PublicHistoryRecord, publicRecord } from "../stores";
import { nextRun } from "../config";

/** What an operator needs to see per target, pauses and fights included. */
export interface TargetStatus {
  target: string;
  mode: string;
  suspended: boolean;
  /** First recorded run that saw the current observe mode / suspension (no earlier run in view said otherwise). */
  observeSince?: string;
  suspendedSince?: string;
  /** The latest run that reached Partner Center. */
  lastRun?: PublicHistoryRecord;
  /** The latest run of any kind, when it is not lastRun (suspended, invalid desired state, in progress). */
  latestAttempt?: { outcome: string; startedAt: string; trigger: string; error: string | null };
  lastCorrection?: { at: string; fields: string[]; runId: string };
  contested: ContestedField[];
  notConverged: { field: string; desired: string; service: string }[];
  /** A run holding the lease now. */
  running?: LeaseInfo;
  nextScheduledRun?: string;
  /** Queue messages of this target the host gave up on. */
  poison: PoisonEntry[];
}

/** What status reads: the target's rows and two settings (the Engine is one). */
export interface StatusSources {
  readonly desired: Pick<DesiredStateStore, "get">;
  readonly history: Pick<HistoryStore, "list">;
  readonly leases: Pick<LeaseStore, "get">;
  readonly deps: { readonly contestPolicy?: ContestPolicy };
  readonly settings: { readonly schedule: string };
}

const HISTORY_IN_VIEW = 200;

function since(records: readonly HistoryRecord[], holds: (r: HistoryRecord) => boolean | undefined): string | undefined {
  let first: string | undefined;
  for (const r of records) {
    const value = holds(r);
    if (value === undefined) continue;
    if (!value) break;
    first = r.startedAt;
  }
  return first;
}

export async function targetStatus(engine: StatusSources, target: string, context: { now: Date; poison: PoisonEntry[] }): Promise<TargetStatus> {
  const [row, records, lease] = await Promise.all([
    engine.desired.get(target),
    engine.history.list(target, { limit: HISTORY_IN_VIEW, columns: "public" }),
    engine.leases.get(target, context.now),
  ]);
  const mode = row?.properties.Mode === "observe" ? "observe" : "enforce";
  const suspended = row?.properties.Suspended === true;
  const reached = records.find((r) => r.requestIds.length > 0);
  const latest = records[0];
  const correction = records.find((r) => r.putMade);
  const memory = records.find((r) => r.notConverged !== undefined)?.notConverged ?? [];
  return {
    target,
    mode,
    suspended,
    observeSince: mode === "observe" ? since(records, (r) => (r.mode === undefined ? undefined : r.mode === "observe")) : undefined,
    suspendedSince: suspended ? since(records, (r) => r.suspended) : undefined,
    lastRun: reached && publicRecord(reached),
    latestAttempt:
      latest && latest !== reached
        ? { outcome: latest.outcome, startedAt: latest.startedAt, trigger: latest.trigger, error: latest.error?.message ?? null }
        : undefined,
    lastCorrection: correction && { at: correction.startedAt, fields: correction.changedFields, runId: correction.runId },
    contested: findContested(records, context.now, engine.deps.contestPolicy),
    notConverged: memory.map(({ field, desired, service }) => ({ field, desired, service })),
    running: lease && !lease.expired ? lease : undefined,
    nextScheduledRun: nextRun(engine.settings.schedule, context.now),
    poison: context.poison.filter((p) => p.target === target),
  };
}
