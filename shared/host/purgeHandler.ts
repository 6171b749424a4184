import type { InvocationContext } from "@azure/functions";
import { purgeHistory } from "../engine";
import { contextLogger, getEngine } from "./worker";

/**
 * The daily purge stops starting deletes after this long, well inside the host's function
 * timeout; what is left goes the next day (deleted rows are gone, so it resumes there).
 */
export const PURGE_BUDGET_IN_MS = 8 * 60 * 1000;

export async function runPurge(context: InvocationContext): Promise<void> {
  const log = contextLogger(context);
  const result = await purgeHistory(getEngine(), { budgetInMs: PURGE_BUDGET_IN_MS });
  log.info(`Purged ${result.total} row(s) older than the retention${result.complete ? "" : " (stopped at the time budget; the next purge carries on)"}`, {
    removed: result.removed.map((r) => `${r.name}: ${r.rows}`),
    complete: result.complete,
    durationMs: result.durationMs,
  });
}
