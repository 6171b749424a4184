import type { Command } from "commander";
import { type Engine, unlockTarget } from "../shared/engine";
import type { CliIo } from "./io";

/**
 * `billing-sync unlock --target T [--reason R] [--force]`: a lease released by hand. It
 * refuses while the holder may be alive within its lease (exit 3, as a sync that finds the
 * lease taken) unless --force; the held run is recorded `interrupted`.
 */
export function registerUnlock(program: Command, context: { io: CliIo; getEngine: () => Engine; setExitCode: (code: number) => void }): void {
  program
    .command("unlock")
    .description(
      "Release a target's lease by hand (its run died without releasing it). Refuses while the holder may be alive within its lease, unless --force; records the held run as interrupted.",
    )
    .requiredOption("--target <name>", "the target whose lease to release")
    .option("--reason <text>", "why, kept in the held run's history row")
    .option("--force", "release even though the lease has not expired and its holder may be alive")
    .option("--json", "print JSON")
    .action(async (opts: { target: string; reason?: string; force?: boolean; json?: boolean }) => {
      const { io } = context;
      try {
        const result = await unlockTarget(context.getEngine(), opts.target, { reason: opts.reason, force: !!opts.force });
        io.stdout(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${result.message}\n`);
        context.setExitCode(result.released || !result.lease ? 0 : 1);
      } catch (err) {
        if ((err as { code?: string }).code !== "InProgress") throw err;
        io.stderr(`InProgress: ${(err as Error).message}\n`);
        context.setExitCode(3);
      }
    });
}
