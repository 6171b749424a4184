import type { Command } from "commander";
import { SyncError } from "../shared/core";
import { type Approved, approveHeld, type ApproveScope, type Engine } from "../shared/engine";

/** What the approve command needs of the program that registers it. */
export interface ApproveContext {
  getEngine: () => Engine;
  out: (value: unknown, json: boolean, human: () => string) => void;
}

export function renderApproved(approved: Approved): string {
  if (approved.sweeps.length === 0) return "No sweep has held targets waiting for approval.\n";
  const lines = approved.sweeps.map((s) =>
    s.target
      ? `Approved ${s.target}, held by sweep ${s.sweepId}: corrected on its next run.`
      : `Approved sweep ${s.sweepId} (${s.putsMade} of ${s.putLimit} PUTs made): the targets it held are corrected on their next run.`,
  );
  return `${lines.join("\n")}${approved.reason ? `\nReason: ${approved.reason}` : ""}\n`;
}

/**
 * `billing-sync approve --sweep S | --target T | --all [--reason]`: past the sweep's PUT
 * limit (BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP). Nothing is written at Partner Center
 * here; the next run of each approved target corrects it.
 */
export function registerApprove(program: Command, context: ApproveContext): void {
  program
    .command("approve")
    .description("Let targets held by a sweep's PUT limit be corrected on their next run: one sweep, one target, or every held sweep.")
    .option("--sweep <id>", "every target held by this sweep (its id is in the held runs and the MassDriftHeld alert)")
    .option("--target <name>", "one held target")
    .option("--all", "every sweep with held targets")
    .option("--reason <text>", "why, kept with the approval")
    .option("--json", "print JSON")
    .action(async (opts: { sweep?: string; target?: string; all?: boolean; reason?: string; json?: boolean }) => {
      const given = [opts.sweep !== undefined, opts.target !== undefined, !!opts.all].filter(Boolean).length;
      if (given !== 1) throw new SyncError("ConfigError", "approve needs exactly one of --sweep <id>, --target <name> or --all.");
      const scope: ApproveScope = opts.sweep !== undefined ? { sweep: opts.sweep } : opts.target !== undefined ? { target: opts.target } : { all: true };
      const e = context.getEngine();
      const approved = await approveHeld({ history: e.history, sweeps: e.sweeps }, scope, { reason: opts.reason });
      context.out(approved, !!opts.json, () => renderApproved(approved));
    });
}
