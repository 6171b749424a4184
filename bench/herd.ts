import { planSweep } from "../shared/engine";
import { deferralDelayInSeconds, MAX_DEFERRAL_IN_MS } from "../shared/host";
import { RateController } from "../shared/partnerCenter";
import { spreadDelaysInSeconds } from "../shared/stores";

/**
 * The herd: the timer's fan-out of 90 targets at a known 6 calls a minute, a 5-minute
 * schedule, host batch 16 (a new batch at 8 in flight), maxDequeueCount 3, visibility 30 s.
 * A model on a virtual clock (hours of queue time in a second): the host's queue trigger as
 * host.json sets it, the real RateController (the account's pace, the 10 s a queue run may
 * wait for it), and the real decisions of both policies, before and after issue 24:
 * - before: spread over 80% of the time until the next tick; a deferred message comes back
 *   after the next free slot; the 25th deferral throws (host retries, then poison);
 * - after: spread over the schedule's interval (sweep.ts); a deferred message comes back
 *   after its place in the line at the pace (requeue.ts); deferrals end by time, never throw;
 *   a tick skips targets an earlier sweep still has queued.
 * Every run is an in-sync check (one GET). Not modelled: 429s (the known pace keeps to the
 * limit), the run's table I/O, several instances.
 *
 * `npm run build --silent && node dist/bench/herd.js` prints both policies' figures.
 */
export interface HerdOptions {
  policy: "before" | "after";
  targets?: number;
  callsPerMinute?: number;
  intervalInMs?: number;
  /** Timer ticks (every interval); the figure is one sweep. */
  ticks?: number;
  /** Stop after this much virtual time. */
  horizonInMs?: number;
}

export interface HerdFigures {
  policy: string;
  inSync: number;
  deferredRows: number;
  maxDeferredRowsPerTarget: number;
  failedInvocations: number;
  poisoned: number;
  /** Most messages of one target in the queue at once. */
  maxMessagesPerTarget: number;
  drainedAfterMinutes: number;
}

interface Message {
  target: string;
  visibleAt: number;
  dequeueCount: number;
  deferrals: number;
  firstDeferredAt?: number;
  running: boolean;
}

const BATCH = 16;
const NEW_BATCH_THRESHOLD = 8;
const MAX_DEQUEUE = 3;
const VISIBILITY_MS = 30_000;
const MAX_THROTTLE_WAIT_MS = 10_000;
const OLD_MAX_DEFERRALS = 24;
const CALL_MS = 300;
const POLL_MS = 2_000;
const STEP_MS = 100;

export function simulateHerd(options: HerdOptions): HerdFigures {
  const n = options.targets ?? 90;
  const cpm = options.callsPerMinute ?? 6;
  const interval = options.intervalInMs ?? 5 * 60_000;
  const ticks = options.ticks ?? 1;
  const horizon = options.horizonInMs ?? 12 * 3_600_000;
  let t = 0;
  const rate = new RateController({ limitPerMinute: cpm, now: () => t });
  let random = 1;
  const rand = () => ((random = (random * 16807) % 2147483647) - 1) / 2147483646;
  const queue: Message[] = [];
  const runs: { message: Message; endsAt: number }[] = [];
  const figures: HerdFigures = { policy: options.policy, inSync: 0, deferredRows: 0, maxDeferredRowsPerTarget: 0, failedInvocations: 0, poisoned: 0, maxMessagesPerTarget: 0, drainedAfterMinutes: 0 };
  const deferredOf = new Map<string, number>();
  const line = { endsAt: 0 };
  const targets = Array.from({ length: n }, (_, i) => `t${i}`);
  let nextTick = 0;
  let tick = 0;
  let nextPoll = 0;
  const remove = (m: Message) => queue.splice(queue.indexOf(m), 1);

  const sweep = () => {
    let delays: number[];
    let queued = targets;
    if (options.policy === "before") {
      delays = spreadDelaysInSeconds(n, cpm, 0.8 * interval);
    } else {
      const plan = planSweep(targets, new Set(queue.map((m) => m.target)), cpm, interval);
      queued = plan.targets;
      delays = plan.delays;
    }
    queued.forEach((target, i) => queue.push({ target, visibleAt: t + delays[i] * 1000, dequeueCount: 0, deferrals: 0, running: false }));
    const perTarget = new Map<string, number>();
    for (const m of queue) perTarget.set(m.target, (perTarget.get(m.target) ?? 0) + 1);
    figures.maxMessagesPerTarget = Math.max(figures.maxMessagesPerTarget, ...perTarget.values());
  };

  const start = (m: Message) => {
    m.dequeueCount++;
    if (m.dequeueCount > MAX_DEQUEUE) {
      remove(m);
      figures.poisoned++;
      return;
    }
    m.running = true;
    const ahead = rate.waitInMs();
    if (ahead <= MAX_THROTTLE_WAIT_MS) {
      runs.push({ message: m, endsAt: t + rate.reserve().waitInMs + CALL_MS });
      return;
    }
    // Deferred: a history row, and the message put back (or, before, thrown at the 25th).
    figures.deferredRows++;
    deferredOf.set(m.target, (deferredOf.get(m.target) ?? 0) + 1);
    const deferrals = m.deferrals + 1;
    if (options.policy === "before") {
      if (deferrals > OLD_MAX_DEFERRALS) {
        figures.failedInvocations++;
        Object.assign(m, { running: false, visibleAt: t + VISIBILITY_MS });
        return;
      }
      remove(m);
      queue.push({ target: m.target, visibleAt: t + Math.max(1, Math.ceil(ahead / 1000)) * 1000, dequeueCount: 0, deferrals, running: false });
      return;
    }
    const firstDeferredAt = m.firstDeferredAt ?? t;
    const backlog = queue.length;
    remove(m);
    if (t - firstDeferredAt > MAX_DEFERRAL_IN_MS) return;
    const delay = deferralDelayInSeconds({ retryAfterInMs: ahead, backlog, callsPerMinute: cpm, now: t, line, random: rand });
    queue.push({ target: m.target, visibleAt: t + delay * 1000, dequeueCount: 0, deferrals, firstDeferredAt, running: false });
  };

  for (; t <= horizon; t += STEP_MS) {
    if (tick < ticks && t >= nextTick) {
      sweep();
      tick++;
      nextTick += interval;
    }
    for (let i = runs.length - 1; i >= 0; i--) {
      if (runs[i].endsAt > t) continue;
      figures.inSync++;
      remove(runs[i].message);
      runs.splice(i, 1);
    }
    if (t >= nextPoll) {
      nextPoll = t + POLL_MS;
      const inFlight = runs.length;
      if (inFlight <= NEW_BATCH_THRESHOLD) {
        const visible = queue.filter((m) => !m.running && m.visibleAt <= t).sort((a, b) => a.visibleAt - b.visibleAt);
        for (const m of visible.slice(0, BATCH)) start(m);
      }
    }
    if (tick >= ticks && queue.length === 0 && runs.length === 0) break;
  }
  figures.maxDeferredRowsPerTarget = Math.max(0, ...deferredOf.values());
  figures.drainedAfterMinutes = Math.round(t / 60_000);
  return figures;
}

if (require.main === module) {
  for (const policy of ["before", "after"] as const) {
    for (const ticks of [1, 3]) {
      const f = simulateHerd({ policy, ticks });
      process.stdout.write(
        `herd ${policy} ticks=${ticks}: in-sync ${f.inSync}, deferred rows ${f.deferredRows} (at most ${f.maxDeferredRowsPerTarget} per target), failed invocations ${f.failedInvocations}, poisoned ${f.poisoned}, most messages per target ${f.maxMessagesPerTarget}, drained after ${f.drainedAfterMinutes} min\n`,
      );
    }
  }
}
