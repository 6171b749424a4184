import type { Command } from "commander";
import { type Engine, purgeHistory } from "../shared/engine";
import type { PurgeResult } from "../shared/stores";

/** What `history prune` says it removed (or, with --dry-run, would remove). */
export function renderPrune(result: PurgeResult): string {
  const verb = result.dryRun ? "Would remove" : "Removed";
  const parts = result.removed.map((r) => `${r.rows} ${r.name} (${r.table})`);
  const lines = [`${verb} ${result.total} row${result.total === 1 ? "" : "s"} older than the retention: ${parts.join(", ")}; ${(result.durationMs / 1000).toFixed(1)} s.`];
  if (!result.complete) lines.push("Stopped at the time budget: run it again to carry on where it stopped.");
  return lines.join("\n") + "\n";
}

/** `billing-sync history prune [--dry-run] [--json]`: the daily purge, by hand. */
export function registerHistoryPrune(history: Command, cli: { getEngine: () => Engine; out: (value: unknown, json: boolean, human: () => string) => void }): void {
  history
    .command("prune")
    .description("Delete history rows older than the retention settings (and expired lease rows), as the daily purge does.")
    .option("--dry-run", "count what would be removed; delete nothing")
    .option("--json", "print JSON")
    .action(async (opts: { dryRun?: boolean; json?: boolean }) => {
      const result = await purgeHistory(cli.getEngine(), { dryRun: !!opts.dryRun });
      cli.out(result, !!opts.json, () => renderPrune(result));
    });
}
