import { DEFAULT_RETENTION } from "../config";
import { purgeExpired, type PurgeResult, type TableFactory } from "../stores";
import type { Settings } from "../config";

/** What `history prune` and the daily purge timer need of the engine: its tables and its settings. */
export interface PurgeSources {
  readonly tables: TableFactory;
  readonly settings: Pick<Settings, "retention">;
}

/** Deletes what is older than the retention settings (see shared/stores/purge.ts). */
export function purgeHistory(engine: PurgeSources, options: { dryRun?: boolean; budgetInMs?: number; now?: Date } = {}): Promise<PurgeResult> {
  return purgeExpired(engine.tables, { retention: engine.settings.retention ?? DEFAULT_RETENTION, ...options });
}
