import { performance } from "node:perf_hooks";

/**
 * Whether another run's lease has ended, judged without comparing this instance's clock
 * with the holder's: an instance whose clock is ahead would otherwise take a live lease
 * (and a run it fences out would PUT from a stale plan). Two judges, either suffices:
 * - the service's own clock: Table Storage's Timestamp (the lease's last write) against the
 *   Date of the answer that read it, both set by the service;
 * - this instance's monotonic clock: the same lease ETag seen unchanged for a whole lease
 *   duration (a holder renews by touching it, which changes the ETag).
 */
export interface LeaseSighting {
  target: string;
  etag: string;
  /** The entity's Timestamp, as the service wrote it. */
  timestamp?: string;
  /** The Date header of the answer that read it (the service's clock, to the second). */
  serviceDate?: string;
  durationInMs: number;
}

export class LeaseExpiryJudge {
  /** The first sighting of each lease ETag, on the monotonic clock. */
  private readonly seen = new Map<string, { etag: string; since: number }>();

  constructor(private readonly monotonicNow: () => number = () => performance.now()) {}

  ended(sighting: LeaseSighting): boolean {
    const written = sighting.timestamp ? Date.parse(sighting.timestamp) : NaN;
    const serviceNow = sighting.serviceDate ? Date.parse(sighting.serviceDate) : NaN;
    // The Date header is cut to the second, so the elapsed time read here is never more than the real one.
    if (Number.isFinite(written) && Number.isFinite(serviceNow) && serviceNow - written >= sighting.durationInMs) return true;
    const now = this.monotonicNow();
    const prior = this.seen.get(sighting.target);
    if (!prior || prior.etag !== sighting.etag) {
      this.seen.set(sighting.target, { etag: sighting.etag, since: now });
      return false;
    }
    return now - prior.since >= sighting.durationInMs;
  }

  /** The lease was taken or is gone: what was seen of it no longer counts. */
  forget(target: string): void {
    this.seen.delete(target);
  }
}
