import type { Logger } from "../core";
import { trackEvent } from "./worker";

/** Telemetry event: a sweep whose targets need more than the schedule's interval at the account's rate. */
export const SWEEP_OVERRUN_EVENT = "SweepOverrun";

/**
 * A sweep that cannot finish within its interval is not an error (the next sweep skips what
 * it still has queued), but the operator should know: the schedule is too tight for the
 * number of targets at the account's rate.
 */
export function reportSweepOverrun(sweep: { sweepId: string; targets: readonly string[]; needsInMs: number; intervalInMs: number }, log: Logger): void {
  if (sweep.needsInMs <= sweep.intervalInMs) return;
  const needs = Math.ceil(sweep.needsInMs / 1000);
  const interval = Math.round(sweep.intervalInMs / 1000);
  log.warn(`Sweep ${sweep.sweepId}: ${sweep.targets.length} target(s) need ${needs} s at the account's rate, more than the schedule's ${interval} s: the next sweep skips those still queued.`);
  trackEvent(SWEEP_OVERRUN_EVENT, { sweepId: sweep.sweepId, targets: String(sweep.targets.length), needsSeconds: String(needs), intervalSeconds: String(interval) });
}
