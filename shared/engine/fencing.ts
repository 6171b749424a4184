import { SyncError } from "../core";
import type { Lease, LeaseStore } from "../stores";

/**
 * No lease, no PUT: before each PUT the run touches its own lease, conditional on the ETag
 * it last wrote. A run that was paused (GC, a slow gate, a lost network) past its lease, and
 * whose lease another run has since taken, learns it here instead of writing over that run.
 */
export function fenceFor(leases: Pick<LeaseStore, "touch">, lease: Lease): () => Promise<void> {
  return async () => {
    const etag = await leases.touch(lease);
    if (!etag) {
      throw new SyncError("InProgress", `The lease of "${lease.target}" is no longer this run's (another run took it over); no PUT was sent.`, { statusCode: 409 });
    }
    lease.etag = etag;
  };
}
