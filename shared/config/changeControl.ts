import { SyncError } from "../core";

/** Change control of the desired state (docs/change-control.md). */
export interface ChangeControlSettings {
  /** BILLING_SYNC_REQUIRE_REASON: a desired-state write without --reason is refused. */
  requireReason: boolean;
  /** BILLING_SYNC_OUT_OF_BAND: a desired row changed outside billing-sync is enforced as it is (warn) or held until accepted (block). */
  outOfBand: "warn" | "block";
}

export const DEFAULT_CHANGE_CONTROL: ChangeControlSettings = { requireReason: false, outOfBand: "warn" };

export function parseChangeControl(env: Record<string, string | undefined>): ChangeControlSettings {
  const reason = env.BILLING_SYNC_REQUIRE_REASON?.trim().toLowerCase() ?? "";
  if (!["", "true", "false"].includes(reason)) {
    throw new SyncError("ConfigError", `Setting BILLING_SYNC_REQUIRE_REASON must be true or false, got "${reason.slice(0, 40)}"`);
  }
  const outOfBand = env.BILLING_SYNC_OUT_OF_BAND?.trim().toLowerCase() ?? "";
  if (!["", "warn", "block"].includes(outOfBand)) {
    throw new SyncError("ConfigError", `Setting BILLING_SYNC_OUT_OF_BAND must be warn or block, got "${outOfBand.slice(0, 40)}"`);
  }
  return { requireReason: reason === "true", outOfBand: outOfBand === "block" ? "block" : "warn" };
}
