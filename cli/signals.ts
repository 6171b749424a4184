import { Interruption } from "../shared/engine";

/** How long the runs in flight get, after the first Ctrl-C or SIGTERM, to finish and record. */
export const INTERRUPT_GRACE_IN_MS = 5_000;

/**
 * Ctrl-C and SIGTERM for the `billing-sync` process. While runs are under way (`guard`):
 * the first signal stops new runs and gives those in flight INTERRUPT_GRACE_IN_MS before
 * they are aborted and recorded `interrupted`; the second exits at once. Outside a guard
 * a signal ends the process as it would without this handler, unless a command (the
 * simulator) listens for it itself.
 */
export interface CliSignals {
  interruption: Interruption;
  /** Runs `work` with signals turned into the interruption; the signal's exit code after it, if one came. */
  guard<T>(work: () => Promise<T>): Promise<T>;
}

const EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export function installSignals(write: (text: string) => void, graceInMs = INTERRUPT_GRACE_IN_MS): CliSignals {
  const interruption = new Interruption();
  let guarding = 0;
  const handler = (signal: NodeJS.Signals) => {
    if (guarding === 0) {
      if (process.listenerCount(signal) > 1) return;
      process.exit(EXIT_CODES[signal] ?? 1);
    }
    if (interruption.stopped) {
      write(`\n${signal} again: exiting now. Runs in flight are not recorded; their leases expire on their own (or \`billing-sync unlock\`).\n`);
      process.exit(EXIT_CODES[signal] ?? 1);
    }
    write(`\n${signal}: no new runs start; the runs under way have ${graceInMs / 1000} s to finish, then they are stopped and recorded as interrupted. ${signal === "SIGINT" ? "Ctrl-C" : signal} again exits at once.\n`);
    interruption.stop(signal, graceInMs);
    process.exitCode = EXIT_CODES[signal] ?? 1;
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    interruption,
    guard: async (work) => {
      guarding++;
      try {
        return await work();
      } finally {
        guarding--;
      }
    },
  };
}
