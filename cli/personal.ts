import { getPath } from "../shared/core";
import type { EngineOptions, FinishedRun } from "../shared/engine";
import type { FieldChange, RunResult } from "../shared/model";
import type { HistoryRecord } from "../shared/stores";

/**
 * `--show-personal` on plan, sync and history: the person at the terminal (who can read the
 * desired and history tables) sees the values they review. Only this command's output
 * changes: the engine, its logs, telemetry and the history row stay masked.
 */
export class PersonalValues {
  private readonly changes = new Map<string, FieldChange[]>();
  enabled = false;

  /** Engine options that also keep each run's unmasked changes, while enabled. */
  hook(options: EngineOptions): EngineOptions {
    const previous = options.onRunFinished;
    return {
      ...options,
      onRunFinished: (run: FinishedRun) => {
        previous?.(run);
        if (this.enabled) this.changes.set(run.result.runId, run.changes);
      },
    };
  }

  /** Runs with their changes unmasked, when enabled and known. */
  reveal(runs: RunResult[]): RunResult[] {
    if (!this.enabled) return runs;
    return runs.map((r) => {
      const plain = this.changes.get(r.runId);
      return plain && plain.length === r.changes.length ? { ...r, changes: plain } : r;
    });
  }
}

/**
 * A history record's changes with the old value history holds unmasked: the profile the
 * run kept before its PUT. The new value is kept only masked, and stays so.
 */
export function revealHistory(record: HistoryRecord): HistoryRecord {
  const before = record.profileBefore;
  if (!before) return record;
  const changes = record.changes.map((c) => {
    const value = getPath(before, c.field.split("_"));
    return value === undefined || value === null ? c : { ...c, from: typeof value === "string" ? value : JSON.stringify(value) };
  });
  return { ...record, changes };
}
