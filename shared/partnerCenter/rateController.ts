import { sleep, SyncError } from "../core";

/**
 * How fast one partner account's calls go out. Partner Center limits calls per partner
 * tenant (500 a minute for the customer resources, the only figure the public record
 * gives, partner-center-api-wave2.md §5) and answers 429 with Retry-After beyond that.
 * One controller per account, shared by every run of the process, paces calls so that
 * they stay under the limit instead of finding it by failing:
 *
 * - pacing: a call may go when the schedule says (GCRA: one call per 1/rate, a burst of
 *   ten after idle), never before a Retry-After pause ends;
 * - the budget (PARTNER_CENTER_CALLS_PER_MINUTE, 250 by default: half the documented
 *   limit, the rest is the partner's other tools') is the start and the ceiling: the
 *   limit is shared with every tool of the tenant, so the service's 429s are not something
 *   to look for. A 429 takes 10% off (once per burst of them) and the rate returns to the
 *   budget, never above it;
 * - without a budget (tests, and the soak, only: settings always give one) a limit is found:
 *   from a start (500 a minute) the rate doubles every 20 answered calls until the first
 *   429, which halves it; after that every 429 takes 10% off and every answered call adds
 *   0.02% (about 10% per 480 calls). One decrease per burst of 429s: calls sent before the
 *   last decrease say nothing new.
 * - what a decrease took comes back within a minute without another 429 (geometrically,
 *   back to the rate the 429 cut): a stray 429, or one caused by another tool of the same
 *   tenant, must not leave the account crawling. Per-call growth alone is 0.02% a call, so
 *   an account cut to 30 a minute would need half an hour to find its rate again; a limit
 *   really lower is found again by the next 429, which cuts from there.
 *
 * The rate grows only while calls really go out near it (a caller that cannot use more says
 * nothing about the limit), and a 429 takes its share off the rate calls went out at.
 *
 * Rates change per call, not per second, so the behaviour does not depend on how fast the
 * clock runs (the benchmark scales time); only the return after a decrease is timed.
 * The decisions are plain arithmetic on an injected clock; only `acquire` sleeps.
 */
export interface RateControllerOptions {
  /** The account's budget: the start, and never exceeded. */
  limitPerMinute?: number;
  /** Where an unknown limit is looked for from; default 500 a minute. */
  startPerMinute?: number;
  /** How long what a decrease took takes to come back; default a minute (benchmarks scale it with their time). */
  recoveryInMs?: number;
  now?: () => number;
}

export type RatePhase = "known" | "probing" | "adapting";

/** What a slot was granted at: reported back with the answer, so that old calls do not count twice. */
export type RateTicket = number;

/** The only published figure (Customer resources, per partner tenant): where an unknown limit is looked for from. */
export const DEFAULT_START_PER_MINUTE = 500;
const MIN_PER_MINUTE = 6;
const MAX_PER_MINUTE = 600_000;
/** Doubling every this many answered calls while probing. */
const PROBE_DOUBLING_CALLS = 20;
const DECREASE = 0.9;
/**
 * A 429 again soon after a decrease (within RECOVERY_MS) and before the rate came back
 * from it (under 5% above): even the cut rate is too high, the limit is further below,
 * cut deeper. A 429 met on the way back is the usual 10%.
 */
const DECREASE_AGAIN = 0.8;
const FIRST_DECREASE = 0.5;
const INCREASE_PER_CALL = 0.0002;
/** Calls that may go at once after idle (a run's GET and PUT, a retry or two): far below any limit's minute. */
const BURST = 10;
/** How long what a decrease took takes to come back. */
const RECOVERY_MS = 60_000;
/**
 * A 429 again at the rate an earlier 429 cut, within this long, says that rate is too high:
 * the return then stops REPEAT_RETURN short of it, so that a limit under the budget (or
 * another tool's share of it) is not met again every minute.
 */
const REPEAT_WINDOWS = 3;
const REPEAT_RETURN = 0.95;
/** Recent grants kept to measure the rate calls really go out at, and how many of them the pace held back. */
const WINDOW = 32;

export interface RateSnapshot {
  callsPerMinute: number;
  phase: RatePhase;
  granted: number;
  succeeded: number;
  throttled: number;
  decreases: number;
  /** Until when calls wait for a Retry-After (epoch ms), when they do. */
  pausedUntil?: number;
}

export class RateController {
  private perMs: number;
  private readonly ceilingPerMs: number;
  private phase: RatePhase;
  /** GCRA's theoretical arrival time: when the next call is due at the current rate. */
  private tat = -Infinity;
  private pausedUntil = -Infinity;
  private lastDecreaseAt = -Infinity;
  /** The rate the last decrease left (per ms). */
  private lastCutTo = 0;
  /** The return after the last decrease: from the rate it left, to the rate it cut (per ms). */
  private recovery?: { from: number; to: number; since: number };
  /** Where the last return was headed, and when: a 429 there again is a repeat. */
  private lastReturn?: { to: number; at: number };
  private readonly now: () => number;
  private readonly recoveryMs: number;
  private readonly counts = { granted: 0, succeeded: 0, throttled: 0, decreases: 0 };
  /** When the last WINDOW slots were granted, and whether the pace (not the caller) set the time (rings). */
  private readonly grants: number[] = [];
  private readonly paced: boolean[] = [];
  private nextGrant = 0;

  constructor(options: RateControllerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.recoveryMs = options.recoveryInMs ?? RECOVERY_MS;
    const known = options.limitPerMinute;
    this.phase = known !== undefined ? "known" : "probing";
    this.ceilingPerMs = clamp(known ?? MAX_PER_MINUTE) / 60_000;
    this.perMs = clamp(known ?? options.startPerMinute ?? DEFAULT_START_PER_MINUTE) / 60_000;
  }

  /** Milliseconds until a call could go now, without taking the slot. */
  waitInMs(): number {
    const now = this.now();
    this.recover(now);
    return Math.max(0, this.earliest() - now);
  }

  /** Takes the next slot: when it is (a ticket) and how long to wait for it. */
  reserve(): { ticket: RateTicket; waitInMs: number } {
    const now = this.now();
    this.recover(now);
    const earliest = this.earliest();
    const at = Math.max(now, earliest);
    this.tat = Math.max(this.tat, at) + 1 / this.perMs;
    this.counts.granted++;
    this.grants[this.nextGrant] = at;
    // The caller came when the burst was (nearly) spent: it could have used more.
    this.paced[this.nextGrant] = earliest > now - 1 / this.perMs;
    this.nextGrant = (this.nextGrant + 1) % WINDOW;
    return { ticket: at, waitInMs: at - now };
  }

  /** Gives back the latest slot, not used: the schedule moves one interval earlier (never into the past). */
  release(): void {
    this.tat = Math.max(this.now(), this.tat - 1 / this.perMs);
    this.counts.granted--;
  }

  /** At least half the recent grants waited for the pace: the rate, not the caller, is what limits. */
  private inUse(): boolean {
    if (this.paced.length < WINDOW) return true;
    return this.paced.filter(Boolean).length >= WINDOW / 2;
  }

  /** Calls per ms over the last WINDOW grants; undefined until there are enough. */
  private measuredPerMs(): number | undefined {
    if (this.grants.length < WINDOW) return undefined;
    const newest = this.grants[(this.nextGrant + WINDOW - 1) % WINDOW];
    const oldest = this.grants[this.nextGrant];
    return newest > oldest ? (WINDOW - 1) / (newest - oldest) : undefined;
  }

  /** An answer other than 429: the call was admitted. */
  onSuccess(_ticket: RateTicket): void {
    this.counts.succeeded++;
    this.recover(this.now());
    if (!this.inUse()) return;
    if (this.phase === "probing") this.perMs *= 2 ** (1 / PROBE_DOUBLING_CALLS);
    else this.perMs += this.perMs * INCREASE_PER_CALL;
    this.perMs = Math.min(this.perMs, this.ceilingPerMs);
  }

  /** A 429: wait what the service asked (all calls), and slow down once per burst of them. */
  onThrottled(ticket: RateTicket, retryAfterInMs: number | undefined): void {
    const now = this.now();
    this.counts.throttled++;
    this.pausedUntil = Math.max(this.pausedUntil, now + (retryAfterInMs ?? 1000));
    if (ticket < this.lastDecreaseAt) return;
    this.recover(now);
    const cut = this.perMs;
    // A caller that did not use the allowed rate: from the rate its calls really went out at.
    const measured = this.inUse() ? undefined : this.measuredPerMs();
    const base = measured !== undefined && measured < this.perMs ? measured : this.perMs;
    const again = now - this.lastDecreaseAt < this.recoveryMs && this.perMs <= this.lastCutTo * 1.05;
    this.perMs = Math.max(clamp(MIN_PER_MINUTE) / 60_000, base * (this.phase === "probing" ? FIRST_DECREASE : again ? DECREASE_AGAIN : DECREASE));
    // Back to the rate this 429 cut, not to an older one: a limit really lower keeps its cut;
    // short of it when an earlier return to there met a 429 too.
    const repeat = this.lastReturn !== undefined && now - this.lastReturn.at < REPEAT_WINDOWS * this.recoveryMs && cut >= this.lastReturn.to * 0.99;
    const to = Math.max(this.perMs, repeat ? cut * REPEAT_RETURN : cut);
    this.recovery = { from: this.perMs, to, since: now };
    this.lastReturn = { to, at: now };
    if (this.phase === "probing") this.phase = "adapting";
    this.lastDecreaseAt = now;
    this.lastCutTo = this.perMs;
    // No burst when the pause ends: the limit has refilled only a pause's worth, and ten calls
    // at once would meet it empty again (a cascade of cuts). Calls resume at the pace.
    this.tat = Math.max(this.tat, this.pausedUntil + (BURST - 1) / this.perMs);
    this.counts.decreases++;
  }

  /**
   * Waits for a slot. With `maxWaitInMs`, a wait longer than that is not taken: it throws
   * Throttled with the wait as retryAfterInMs (a queue message then comes back later
   * instead of a function sleeping). A pause that starts while waiting is waited out too.
   */
  async acquire(options: { abortSignal?: AbortSignal; maxWaitInMs?: number; sleep?: (ms: number, signal?: AbortSignal) => Promise<void> } = {}): Promise<RateTicket> {
    const wait = options.sleep ?? sleep;
    for (;;) {
      const ahead = this.waitInMs();
      if (options.maxWaitInMs !== undefined && ahead > options.maxWaitInMs) {
        throw new SyncError("Throttled", `Partner Center calls of this account are paced (${Math.round(this.perMs * 60_000)} a minute): the next slot is ${Math.ceil(ahead / 1000)} s away.`, {
          statusCode: 429,
          retryable: true,
          retryAfterInMs: ahead,
        });
      }
      const { ticket, waitInMs } = this.reserve();
      if (waitInMs > 0) {
        try {
          await wait(waitInMs, options.abortSignal);
        } catch (err) {
          // A run stopped while it waited never used its slot: later calls must not queue behind it.
          this.release();
          throw err;
        }
      }
      // A 429 elsewhere while this call waited: its slot is void, wait for the pause. The void
      // slot is given back first, or every waiter a pause meets would push the pace one slot later.
      if (this.now() >= this.pausedUntil || ticket >= this.pausedUntil) return ticket;
      this.release();
    }
  }

  get callsPerMinute(): number {
    this.recover(this.now());
    return this.perMs * 60_000;
  }

  snapshot(): RateSnapshot {
    const now = this.now();
    this.recover(now);
    return { callsPerMinute: this.perMs * 60_000, phase: this.phase, ...this.counts, ...(this.pausedUntil > now ? { pausedUntil: this.pausedUntil } : {}) };
  }

  /** Calls that could go at once now, up to the burst: what a run of several calls can count on. */
  readyInMs(calls: number): number {
    const now = this.now();
    this.recover(now);
    const n = Math.min(Math.max(1, calls), BURST);
    return Math.max(0, this.tat - (BURST - n) / this.perMs - now, this.pausedUntil - now);
  }

  /** The return after a decrease: the rate is at least where the minute-long curve has come to. */
  private recover(now: number): void {
    if (!this.recovery) return;
    const { from, to, since } = this.recovery;
    const done = Math.min(1, Math.max(0, (now - since) / this.recoveryMs));
    const back = from * (to / from) ** done;
    if (back > this.perMs) this.perMs = Math.min(back, this.ceilingPerMs);
    if (done >= 1) this.recovery = undefined;
  }

  private earliest(): number {
    // One call per 1/rate; up to BURST at once after idle; nothing during a pause.
    return Math.max(this.tat - (BURST - 1) / this.perMs, this.pausedUntil);
  }
}

function clamp(perMinute: number): number {
  return Math.min(MAX_PER_MINUTE, Math.max(MIN_PER_MINUTE, perMinute));
}
