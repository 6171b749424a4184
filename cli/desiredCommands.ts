import { type Command, Option } from "commander";
import { checkTargetName } from "../shared/model";
import { SyncError } from "../shared/core";
import {
  acceptOutside,
  checkReason,
  DEFAULT_MAX_TARGETS,
  type Engine,
  guardWrites,
  previewWrites,
  readChangeLog,
  type RowWrite,
  settlePending,
  stopManagingWords,
  type WriteContext,
  writeContextFor,
  writeDesiredRow,
  type WritePreview,
} from "../shared/engine";
import type { ChangeEntry } from "../shared/stores";
import type { CliIo } from "./io";
import { publicEntry, renderChangeLog, renderPreview, renderRefusal } from "./changeViews";

/**
 * Change control of the desired state at the command line (docs/change-control.md): the
 * options every desired-writing command shares (--reason, --yes, --max-targets), the
 * preview and guard they go through, and `desired log`, `desired delete`, `desired accept`.
 */
export interface WriteOptions {
  reason?: string;
  yes?: boolean;
  maxTargets?: number;
}

export const NEEDS_CONFIRMATION = 2;

const wholeNumber = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new SyncError("ConfigError", `${name} must be a whole number from ${min} to ${max}, got "${v.slice(0, 20)}"`);
  return n;
};

/** --reason, --yes and --max-targets on a command that writes desired state. */
export function withWriteOptions(command: Command, options: { guard?: boolean } = { guard: true }): Command {
  command.option("--reason <text>", "why: kept in the change log (required when BILLING_SYNC_REQUIRE_REASON=true)");
  if (options.guard !== false) {
    command.option("--yes", "write even when the change needs confirmation (more than --max-targets targets, fields that stop being managed)");
    command.addOption(new Option("--max-targets <n>", "targets one write may change without --yes").default(DEFAULT_MAX_TARGETS).argParser(wholeNumber("--max-targets", 0, 1_000_000)));
  }
  return command;
}

/** Who, via and why of this command's writes; refuses now (before any work) a write without a required reason. */
export async function writeContext(engine: Engine, command: string, reason: string | undefined): Promise<WriteContext> {
  const given = checkReason(engine.settings, reason, command);
  return writeContextFor(engine, command, { via: "cli", reason: given, onEvent: engine.deps.onEvent });
}

/**
 * Prints what the writes would change and decides: true to go ahead. False (exit 2,
 * nothing written) for a mass change or dropped fields without --yes.
 */
export function confirmWrites(io: CliIo, writes: readonly RowWrite[], options: WriteOptions & { quiet?: boolean }): { go: boolean; preview: WritePreview } {
  const preview = previewWrites(writes);
  const verdict = guardWrites(writes, preview, { maxTargets: options.maxTargets, yes: options.yes });
  if (!options.quiet || !verdict.go) io.stdout(renderPreview(preview, stopManagingWords(writes)));
  if (!verdict.go) io.stdout(renderRefusal(verdict));
  return { go: verdict.go, preview };
}

export interface ChangeCommandDeps {
  io: CliIo;
  getEngine: () => Engine;
  out: (value: unknown, json: boolean, human: () => string) => void;
  setExitCode: (code: number) => void;
}

/** Every target's entries since a time, newest first, pending ones settled. */
async function allEntries(engine: Engine, since: string | undefined, limit: number): Promise<ChangeEntry[]> {
  const entries: ChangeEntry[] = [];
  for await (const entry of engine.changes.all({ since })) entries.push(entry);
  const settled = await Promise.all(entries.map((e) => (e.state === "pending" ? settlePending(engine, e, undefined) : e)));
  return settled.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).slice(0, limit);
}

function parseSince(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new SyncError("ConfigError", `--since must be a date or time (e.g. 2026-12-01), got "${value.slice(0, 40)}"`);
  return new Date(ms).toISOString();
}

export function registerChangeCommands(desired: Command, deps: ChangeCommandDeps): void {
  const { io, getEngine, out } = deps;

  desired
    .command("log")
    .description("The change log of the desired state, newest first: who, when, via, why, each field before and after (masked unless --show-personal).")
    .option("--target <name>", "one target (default: every target)")
    .option("--since <date>", "entries from this UTC date or time on")
    .addOption(new Option("--limit <n>", "entries at most").default(50).argParser(wholeNumber("--limit", 1, 10_000)))
    .option("--json", "print JSON")
    .option("--show-personal", "show personal values (default: masked)")
    .action(async (opts: { target?: string; since?: string; limit: number; json?: boolean; showPersonal?: boolean }) => {
      const e = getEngine();
      const since = parseSince(opts.since);
      const entries = opts.target !== undefined ? await readChangeLog(e, checkTargetName(opts.target), { since, limit: opts.limit }) : await allEntries(e, since, opts.limit);
      const showPersonal = !!opts.showPersonal;
      out({ entries: entries.map((x) => publicEntry(x, showPersonal)) }, !!opts.json, () => renderChangeLog(entries, { showPersonal }));
    });

  withWriteOptions(
    desired
      .command("delete")
      .description("Remove a target's desired row: billing-sync stops managing it. Its history and change log stay; the deletion is logged.")
      .requiredOption("--target <name>", "the target"),
    { guard: false },
  ).action(async (opts: { target: string; reason?: string }) => {
    const e = getEngine();
    const target = checkTargetName(opts.target);
    const context = await writeContext(e, "desired delete", opts.reason);
    const row = await e.desired.get(target);
    if (!row) throw new SyncError("TargetNotFound", `Target "${target}" has no desired-state row.`);
    await writeDesiredRow(e, { target, before: row, after: null }, context);
    io.stdout(`Desired row of ${target} deleted; its history and change log are kept. \`billing-sync desired log --target ${target}\` shows what it held.\n`);
  });

  withWriteOptions(
    desired
      .command("accept")
      .description("Accept a change made to the desired row outside billing-sync: the row as it is becomes billing-sync's (a held target runs again). Needs --reason.")
      .requiredOption("--target <name>", "the target"),
    { guard: false },
  ).action(async (opts: { target: string; reason?: string }) => {
    const e = getEngine();
    const target = checkTargetName(opts.target);
    const context = await writeContext(e, "desired accept", opts.reason);
    const entry = await acceptOutside(e, target, context);
    io.stdout(`Accepted the change made outside billing-sync to ${target} (${entry.fields.map((f) => f.field).join(", ") || "no field"}); its next run enforces the row as it is.\n`);
  });
}
