import type { Engine } from "../engine";
import type { Logger } from "../core";
import type { RunResult } from "../model";
import type { TargetMessage } from "../stores";

/**
 * When a queue run's message comes back instead of completing. Throttling is not a failure:
 * a `deferred` (or `uncertain`, the next run settles it) message goes to the back of the
 * account's line: its delay is the backlog ahead of it at the account's pace, one pace after
 * the message deferred before it (not the next free slot, which sends every deferred message
 * back at once to be deferred again), at least the Retry-After. Deferrals end by time, not by count, and never in the poison queue:
 * a message deferred for longer than MAX_DEFERRAL_IN_MS completes with a warning, and the
 * next sweep queues its target again. A run that met another run's lease is put back for
 * when that lease ends, at most MAX_LEASE_REQUEUES times.
 */
export const MAX_DEFERRAL_IN_MS = 24 * 60 * 60 * 1000;
export const MAX_LEASE_REQUEUES = 3;
/** Spread of a deferred message's delay (+/-), so that instances deferring at once do not meet exactly. */
const JITTER = 0.05;

export interface Requeue {
  message: TargetMessage;
  delayInSeconds: number;
  why: string;
}

/**
 * The end of this process's line of deferred messages (epoch ms): messages deferred together
 * take turns one pace apart after the backlog instead of all coming back at once.
 */
export interface DeferralLine {
  endsAt: number;
}

const PROCESS_LINE: DeferralLine = { endsAt: 0 };

/**
 * Seconds until the deferred message's turn: after the backlog ahead of it at the pace, and
 * after the messages this process deferred before it (one pace apart); at least the
 * Retry-After. Takes the turn in `line`.
 */
export function deferralDelayInSeconds(options: { retryAfterInMs?: number; backlog: number; callsPerMinute: number; now?: number; line?: DeferralLine; random?: () => number }): number {
  const now = options.now ?? Date.now();
  const line = options.line ?? PROCESS_LINE;
  const paceInMs = 60_000 / Math.max(options.callsPerMinute, 1e-3);
  const turnAt = Math.max(now + Math.max(0, options.backlog) * paceInMs, line.endsAt + paceInMs);
  line.endsAt = turnAt;
  const jitter = 1 + JITTER * (2 * (options.random ?? Math.random)() - 1);
  const waitInMs = Math.max(options.retryAfterInMs ?? 0, (turnAt - now) * jitter, 1000);
  // The queue holds a message 7 days, and the deferral ends sooner.
  return Math.ceil(Math.min(waitInMs, MAX_DEFERRAL_IN_MS) / 1000);
}

/** What to send again for this run, if anything; undefined: the message is done. */
export async function requeueFor(engine: Engine, message: TargetMessage, run: RunResult, log: Logger, now = new Date()): Promise<Requeue | undefined> {
  if (run.outcome === "deferred" || run.outcome === "uncertain") {
    const firstDeferredAt = message.firstDeferredAt ?? now.toISOString();
    if (now.getTime() - Date.parse(firstDeferredAt) > MAX_DEFERRAL_IN_MS) {
      log.warn(`Sync of ${run.target} deferred since ${firstDeferredAt}, past ${MAX_DEFERRAL_IN_MS / 3_600_000} h: not queued again; the next sweep queues it (correlation id ${run.correlationId}).`, { target: run.target });
      return undefined;
    }
    const backlog = await engine.queue!.approximateCount();
    const callsPerMinute = engine.settings.callsPerMinute ?? engine.partnerClient().rate.callsPerMinute;
    const delayInSeconds = deferralDelayInSeconds({ retryAfterInMs: run.retryAfterInMs, backlog, callsPerMinute });
    return { message: { ...message, deferrals: (message.deferrals ?? 0) + 1, firstDeferredAt }, delayInSeconds, why: `throttled (${backlog} message(s) ahead at ${Math.round(callsPerMinute)} calls a minute)` };
  }
  if (run.outcome === "in-progress" && !run.dryRun) {
    const requeues = (message.requeues ?? 0) + 1;
    if (requeues > MAX_LEASE_REQUEUES) {
      log.warn(`Sync of ${run.target} met a held lease ${requeues} times: not queued again; the next sweep queues it.`, { target: run.target });
      return undefined;
    }
    const lease = await engine.leases.get(run.target, now).catch(() => undefined);
    const durationInMs = engine.deps.leaseDurationInMs ?? 5 * 60 * 1000;
    // The holder's clock wrote ExpiresAt: trusted only within one lease duration.
    const untilEnd = lease ? Date.parse(lease.expiresAt) - now.getTime() : 0;
    const delayInSeconds = Math.ceil(Math.min(Math.max(untilEnd, 1000), durationInMs) / 1000);
    return { message: { ...message, requeues }, delayInSeconds, why: "another run holds its lease" };
  }
  return undefined;
}
