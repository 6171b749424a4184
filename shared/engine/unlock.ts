import { randomUUID } from "node:crypto";
import { PRODUCT_VERSION, SyncError } from "../core";
import { checkTargetName } from "../model";
import { holderAlive, type HistoryRecord, type LeaseInfo } from "../stores";
import type { Engine } from "./engine";

/**
 * `billing-sync unlock`: a target's lease released by hand, for a holder that died without
 * releasing it (kill -9, a lost VM) when waiting for the lease to expire is too long. It
 * refuses while the holder may still be running within its lease, unless forced, and it
 * records the held run as `interrupted` (its in-progress row, or a new row of its own).
 */
export interface UnlockResult {
  target: string;
  /** The lease as it was; undefined when none was held. */
  lease?: LeaseInfo;
  released: boolean;
  /** The holder's process: alive, dead, or not known (another host, an older lease). */
  holderAlive?: boolean;
  /** The history row written for the held run. */
  recorded?: { runId: string; putPending: boolean; replaced: boolean };
  message: string;
}

export interface UnlockOptions {
  reason?: string;
  force?: boolean;
  now?: Date;
}

const MAX_REASON = 200;

export async function unlockTarget(engine: Engine, target: string, options: UnlockOptions = {}): Promise<UnlockResult> {
  checkTargetName(target);
  const now = options.now ?? new Date();
  const lease = await engine.leases.inspect(target, now);
  if (!lease) return { target, released: false, message: `No lease is held on "${target}": nothing to release.` };
  const { etag, ...info } = lease;
  const alive = holderAlive(lease.process);
  const holder = `a ${lease.trigger} run (${lease.holder}${lease.process ? `, process ${lease.process}` : ""}) since ${lease.acquiredAt}`;
  if (!lease.expired && alive !== false && !options.force) {
    const why = alive ? "its process is alive" : "its process runs on another machine (or the lease does not say which), so it may be alive";
    throw new SyncError(
      "InProgress",
      `The lease of "${target}" is held by ${holder} until ${lease.expiresAt}, and ${why}: nothing released. Wait for it to finish or expire, or give --force if you know it is gone.`,
    );
  }
  if (!(await engine.leases.releaseByHand(target, etag))) {
    return { target, lease: info, released: false, holderAlive: alive, message: `The lease of "${target}" changed while it was being released (its run ended, or another took it): nothing released. Run unlock again to see it as it is now.` };
  }
  const recorded = await recordUnlock(engine, target, lease, { ...options, now, alive });
  const how = lease.expired ? "expired" : alive === false ? "its process is gone" : "forced";
  const what = recorded
    ? ` Run ${recorded.runId} is recorded as interrupted${recorded.putPending ? " (a PUT was about to go out: the next run reads the profile and tells whether it landed)" : ""}.`
    : ` Run ${lease.holder} had recorded its outcome already; only its lease was left.`;
  return { target, lease: info, released: true, holderAlive: alive, recorded, message: `Released the lease of "${target}" held by ${holder} (${how}).${what}` };
}

/** The held run's record: its in-progress (write-ahead) row becomes interrupted, or a row is written for it. */
async function recordUnlock(engine: Engine, target: string, lease: LeaseInfo, options: UnlockOptions & { now: Date; alive?: boolean }): Promise<UnlockResult["recorded"]> {
  const reason = options.reason?.trim().slice(0, MAX_REASON);
  const by = `Lease released by hand (billing-sync unlock${options.force ? " --force" : ""}${lease.expired ? ", after it expired" : ""})${reason ? `: ${reason}` : ""}.`;
  const existing = await engine.history.get(target, lease.holder);
  if (existing && existing.outcome !== "in-progress") return undefined;
  if (existing) {
    const message = `${by} The run had written that a PUT was about to go out and recorded nothing after it: whether it was sent is not known.`;
    await engine.history.add({ ...existing, outcome: "interrupted", putPending: true, error: { code: "Interrupted", message, correlationId: existing.correlationId } });
    return { runId: existing.runId, putPending: true, replaced: true };
  }
  const correlationId = randomUUID();
  const record: HistoryRecord = {
    runId: lease.holder,
    target,
    trigger: lease.trigger as HistoryRecord["trigger"],
    dryRun: false,
    outcome: "interrupted",
    changedFields: [],
    changes: [],
    correlationId,
    requestIds: [],
    putMade: false,
    error: { code: "Interrupted", message: `${by} The run had recorded nothing: no PUT was about to go out.`, correlationId },
    startedAt: lease.acquiredAt,
    durationMs: Math.max(0, options.now.getTime() - Date.parse(lease.acquiredAt)),
    version: PRODUCT_VERSION,
  };
  await engine.history.add(record);
  return { runId: lease.holder, putPending: false, replaced: false };
}
