import type { FinishedRun } from "../shared/engine";
import type { RunResult } from "../shared/model";

/**
 * The closing line of an untargeted `sync` or `plan` (and all that `--quiet` prints): the
 * runs by outcome, the PUTs made, the time taken; after an interruption, what was not
 * started and what went out without an answer.
 */
export interface PutCount {
  /** PUTs answered (the run's record says PutMade). */
  answered: number;
  /** PUTs sent without an answer before an interruption (PutPending). */
  unanswered: number;
}

/** Counts the PUTs of every finished run, for the summary (the RunResult does not say). */
export function putCounter(): PutCount & { onRunFinished: (run: FinishedRun) => void } {
  const count = {
    answered: 0,
    unanswered: 0,
    onRunFinished: (run: FinishedRun) => {
      if (run.record.putMade) count.answered++;
      else if (run.record.putPending) count.unanswered++;
    },
  };
  return count;
}

export function summaryLine(runs: readonly RunResult[], how: { dryRun: boolean; total?: number; elapsedMs: number; puts: PutCount; interrupted?: string }): string {
  const byOutcome = new Map<string, number>();
  for (const run of runs) byOutcome.set(run.outcome, (byOutcome.get(run.outcome) ?? 0) + 1);
  const counts = [...byOutcome].sort((a, b) => b[1] - a[1]).map(([outcome, n]) => `${outcome} ${n}`).join(", ");
  const seconds = `${(how.elapsedMs / 1000).toFixed(1)} s`;
  const total = how.total ?? runs.length;
  const verb = how.dryRun ? "Planned" : "Synced";
  const notStarted = total - runs.length;
  const puts = how.dryRun
    ? ""
    : `; ${how.puts.answered} PUT${how.puts.answered === 1 ? "" : "s"}${how.puts.unanswered ? `, ${how.puts.unanswered} sent without an answer (recorded putPending; the next run tells)` : ""}`;
  const lead = how.interrupted ? `Interrupted (${how.interrupted}): ${verb.toLowerCase()} ${runs.length} of ${total} targets` : `${verb} ${total} target${total === 1 ? "" : "s"}`;
  return `${lead} in ${seconds}${counts ? ` (${counts})` : ""}${notStarted > 0 ? `; ${notStarted} not started` : ""}${puts}.\n`;
}
