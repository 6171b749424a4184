import { SyncError } from "../core";

/** How long rows are kept, in days (see docs/reliability.md, "What is kept, and for how long"). */
export interface RetentionSettings {
  /** Rows of runs that did or tried something, and the desired-state change log: audits look back this far. */
  historyDays: number;
  /** A day's compacted in-sync checks: "checked, in sync, at these times" matters for weeks, not years. */
  checkDays: number;
}

export const DEFAULT_RETENTION: Readonly<RetentionSettings> = { historyDays: 400, checkDays: 35 };
/** Table Storage keeps nothing that long in practice; the bound catches a typo (days for hours). */
const MAX_DAYS = 36_500;

type Env = Record<string, string | undefined>;

function days(env: Env, name: string, fallback: number): number {
  const value = env[name]?.trim();
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < 1 || n > MAX_DAYS) {
    throw new SyncError("ConfigError", `Setting ${name} must be a whole number of days from 1 to ${MAX_DAYS} (rows older are purged daily), got "${value}"`);
  }
  return n;
}

/** BILLING_SYNC_HISTORY_RETENTION_DAYS and BILLING_SYNC_CHECK_RETENTION_DAYS, validated. */
export function parseRetention(env: Env): RetentionSettings {
  return {
    historyDays: days(env, "BILLING_SYNC_HISTORY_RETENTION_DAYS", DEFAULT_RETENTION.historyDays),
    checkDays: days(env, "BILLING_SYNC_CHECK_RETENTION_DAYS", DEFAULT_RETENTION.checkDays),
  };
}
