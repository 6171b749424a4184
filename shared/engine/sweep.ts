import { randomUUID } from "node:crypto";
import { nextRun } from "../config";
import { spreadDelaysInSeconds } from "../stores";

/**
 * One sweep at a time. A sweep (a timer tick, an untargeted sync) has an id (a uuid) that
 * its queue messages carry through deferrals and re-queues; `QueuedTargets` marks each
 * target with an outstanding message. A new sweep queues only the targets no earlier sweep
 * still has queued or deferred, and spreads them over the schedule's interval at the
 * account's rate (the set one, or the one the rate controller learned), not over what is
 * left until the next tick (an untargeted sync just before a tick would crowd its targets
 * into seconds). When the targets need more than the interval at that rate, it says so.
 */
export interface SweepPlan {
  sweepId: string;
  /** The targets this sweep queues, and each one's delay (seconds). */
  targets: string[];
  delays: number[];
  /** Targets an earlier sweep still has queued or deferred: not queued again. */
  skipped: string[];
  /** Time the targets need at the rate (one call each), and the schedule's interval. */
  needsInMs: number;
  intervalInMs: number;
}

/** One hour when the schedule cannot say (never fires again). */
const FALLBACK_INTERVAL_IN_MS = 60 * 60 * 1000;

/** The length of the schedule's interval around `now`: from its next firing to the one after. */
export function scheduleIntervalInMs(schedule: string, now: Date): number {
  const next = nextRun(schedule, now);
  const after = next ? nextRun(schedule, new Date(Date.parse(next))) : undefined;
  return next && after ? Date.parse(after) - Date.parse(next) : FALLBACK_INTERVAL_IN_MS;
}

export function planSweep(all: readonly string[], outstanding: ReadonlySet<string>, callsPerMinute: number, intervalInMs: number, sweepId: string = randomUUID()): SweepPlan {
  const targets = all.filter((t) => !outstanding.has(t));
  const skipped = all.filter((t) => outstanding.has(t));
  return {
    sweepId,
    targets,
    skipped,
    delays: spreadDelaysInSeconds(targets.length, callsPerMinute, intervalInMs),
    needsInMs: (targets.length / callsPerMinute) * 60_000,
    intervalInMs,
  };
}
