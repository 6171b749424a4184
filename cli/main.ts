import { Command, CommanderError, Option } from "commander";
import { checkTargetName, DEFAULT_TARGET, type DesiredState, documentFromDesired, entityFromDocument, outcomeClass, parseDesiredEntity, resourceOfEntity, type RunResult } from "../shared/model";
import { isJsonObject, isSyncError, jsonErrorPosition, mapWithConcurrency, PRODUCT_VERSION, streamLogger, stripBom, SyncError, toSyncError } from "../shared/core";
import {
  adoptAllCustomers,
  deletionsOf,
  pruneWrites,
  applyDesiredEdit,
  applyImport,
  checkCustomerIds,
  checkImportCustomers,
  CustomerList,
  type DesiredEdit,
  Engine,
  type FinishedRun,
  importWrites,
  listDesiredRows,
  planAdopt,
  planImport,
  planRestore,
  type Preflight,
  type TargetStatus,
  type WriteContext,
  writeDesiredRow,
} from "../shared/engine";
import { loadCheckedSettings } from "../shared/config";
import { newestRunsOf, publicRecord } from "../shared/stores";
import { startTelemetry, type Telemetry, withTelemetry } from "../shared/telemetry";
import type { AuthLoginArgs } from "./authLogin";
import type { CliIo } from "./io";
import { delimiterOption, formatOf, lineAt, readDesiredFile, writeDesiredCsv, writeDesiredJsonLines } from "./desiredFile";
import { progressLine } from "./progress";
import { confirmWrites, NEEDS_CONFIRMATION, registerChangeCommands, withWriteOptions, type WriteOptions, writeContext } from "./desiredCommands";
import { PersonalValues, revealHistory } from "./personal";
import { registerApprove } from "./approve";
import { putCounter, summaryLine } from "./runSummary";
import { registerUnlock } from "./unlockCommand";
import { checkEncoding, encodeText, readTextFile, writeTextFile } from "./textFile";
import { registerHistoryPrune } from "./historyPrune";
import { renderAdoptAll, renderEdit, renderHistory, renderImport, renderRun, renderRuns, renderStatus, renderSummary } from "./views";

export const EXIT = { ok: 0, error: 1, drift: 2, inProgress: 3 } as const;

/** Up to this many targets, status shows each one in full after the summary. */
const STATUS_DETAIL_LIMIT = 25;
/** Targets whose history is read at once: enough to overlap the requests, never thousands of sockets (EMFILE). */
const HISTORY_READ_CONCURRENCY = 32;

/** plan: 0 in sync, 2 drift (or held, gone), 1 error or not run (in progress elsewhere, deferred); classes in shared/model/outcomeClass.ts. */
export function planExitCode(runs: RunResult[]): number {
  if (runs.some((r) => !r.recorded || ["error", "later"].includes(outcomeClass(r.outcome).exit))) return EXIT.error;
  return runs.some((r) => outcomeClass(r.outcome).exit === "attention") ? EXIT.drift : EXIT.ok;
}

/** sync: 0 in sync, corrected or suspended; 2 drift left in place (observe mode), held (needs approval) or gone; 3 in progress elsewhere or deferred; 1 error. */
export function syncExitCode(runs: RunResult[]): number {
  if (runs.some((r) => !r.recorded || outcomeClass(r.outcome).exit === "error")) return EXIT.error;
  if (runs.some((r) => outcomeClass(r.outcome).exit === "later")) return EXIT.inProgress;
  return runs.some((r) => outcomeClass(r.outcome).exit === "attention") ? EXIT.drift : EXIT.ok;
}

/** A document naming a customer (CustomerId) is `customer-<id>` unless told otherwise; any other is `default`. */
function defaultTargetOf(doc: unknown): string {
  if (!isJsonObject(doc)) return DEFAULT_TARGET;
  const { kind, id } = resourceOfEntity(doc);
  // Not "target default is invalid": the row is the customer's, named after the id it lacks.
  if (kind.key && id === undefined) throw new SyncError("InvalidDesiredState", `The file's ${kind.key.property} must be ${kind.key.description}; the row would be ${kind.defaultTarget(`<${kind.key.property}>`)}. Nothing was written.`);
  return kind.key && id !== undefined ? kind.defaultTarget(id) : DEFAULT_TARGET;
}

function readJsonFile(path: string, encoding?: string): unknown {
  const text = readTextFile(path, encoding);
  const json = stripBom(text);
  try {
    return JSON.parse(json);
  } catch (err) {
    // The parser's own message may quote the file, which holds tax ids and e-mail addresses: only where.
    const at = jsonErrorPosition(err, json);
    throw new SyncError("InvalidDesiredState", `${path} is not valid JSON${at ? ` (line ${at.line}, column ${at.column})` : ""}; fix it there and run again.`);
  }
}

/** How long `desired set` waits for Partner Center before it writes the row unchecked. */
const DESIRED_CHECK_TIMEOUT_IN_MS = 30_000;

/**
 * `desired set`: the country rules a sync applies, checked before the row is written. A
 * broken rule refuses the row; Partner Center out of reach leaves it unchecked, and says so.
 */
async function checkDesiredRow(engine: Engine, state: DesiredState): Promise<string[]> {
  let checked: Preflight;
  try {
    checked = await engine.checkDesired(state, { abortSignal: AbortSignal.timeout(DESIRED_CHECK_TIMEOUT_IN_MS) });
  } catch (err) {
    const error = toSyncError(err);
    return [`Not checked against the country's rules: Partner Center could not be asked (${error.code}: ${error.message}). A sync checks before it writes.`];
  }
  if (checked.refusal && checked.violations.length > 0) throw checked.refusal;
  const notes = checked.rulesOf
    ? [`Checked against the rules of ${checked.rulesOf}: the values a sync would change keep them.`]
    : checked.warnings.length === 0
      ? ["No address, phone or tax value differs from the live profile: nothing to check against the country's rules."]
      : [];
  if (checked.refusal) notes.push(`A sync will refuse this address as it stands: ${checked.refusal.message}`);
  return [...notes, ...checked.warnings];
}

/** The command tree and what its actions leave behind: the exit code, and telemetry to flush. */
export interface CliProgram {
  program: Command;
  exitCode: () => number;
  shutdown: () => Promise<void>;
}

/**
 * Builds the commands without running any; nothing starts until one is parsed. Exported
 * so that test/docs can check the command table of docs/operations.md against it.
 */
export function buildProgram(io: CliIo): CliProgram {
  let exitCode: number = EXIT.ok;
  let engine: Engine | undefined;
  const color = io.color ?? false;
  const out = (value: unknown, json: boolean, human: () => string) => io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : human());
  let telemetry: Telemetry | undefined;
  const puts = putCounter();
  const personal = new PersonalValues();
  const getEngine = () => {
    if (!engine) {
      const settings = loadCheckedSettings(io.env);
      telemetry = startTelemetry(settings, { mode: "process", report: (notice) => io.stderr(`warn ${notice}\n`) });
      const log = streamLogger(io.stderr, { verbose: io.env.BILLING_SYNC_VERBOSE === "1" });
      const onRunFinished = (run: FinishedRun) => {
        puts.onRunFinished(run);
        io.engineOptions?.onRunFinished?.(run);
      };
      engine = new Engine(settings, withTelemetry(personal.hook({ log, via: "cli", ...io.engineOptions, onRunFinished }), telemetry));
    }
    return engine;
  };
  const interruption = io.signals?.interruption;
  /** The closing line of an untargeted run: printed after the runs, or alone with --quiet. */
  let summary = "";
  const runTargets = async (target: string | undefined, dryRun: boolean, how: { quiet?: boolean } = {}) => {
    const trigger = "cli" as const;
    const e = getEngine();
    const guard = io.signals?.guard ?? (<T>(work: () => Promise<T>) => work());
    if (target === undefined) {
      const progress = progressLine(io);
      const counts = new Map<string, number>();
      const started = Date.now();
      let total: number | undefined;
      // --quiet: the summary line only; a run's warnings stay in its record and telemetry.
      const quietLog = how.quiet ? { ...streamLogger(io.stderr), info: () => undefined, warn: () => undefined } : undefined;
      const runs = await guard(() =>
        e.syncAll({
          trigger,
          dryRun,
          interruption,
          log: quietLog,
          onProgress: ({ done, total: of, run }) => {
            total = of;
            counts.set(run.outcome, (counts.get(run.outcome) ?? 0) + 1);
            progress.update(`${dryRun ? "Planning" : "Syncing"}: ${done}/${of} targets (${[...counts].map(([o, n]) => `${o} ${n}`).join(", ")})`);
          },
        }),
      );
      progress.done();
      if (interruption?.stopped) total = (await e.listTargets().catch(() => undefined))?.length ?? total;
      summary = summaryLine(runs, { dryRun, total, elapsedMs: Date.now() - started, puts, interrupted: interruption?.stopped ? interruption.cause : undefined });
      return runs;
    }
    checkTargetName(target);
    if (!(await e.desired.get(target))) throw new SyncError("TargetNotFound", `Target "${target}" has no desired-state row.`);
    return [await guard(() => e.syncTarget({ target, trigger, dryRun }, { abortSignal: interruption?.abortSignal }))];
  };
  /** After an interruption the exit code is the signal's (130 for Ctrl-C, 143 for SIGTERM). */
  const signalExit = (code: number) => (interruption?.stopped ? (interruption.cause === "SIGTERM" ? 143 : 130) : code);

  const program = new Command("billing-sync")
    .description("Keeps the Partner Center billing profile in its desired state.")
    .version(PRODUCT_VERSION, "-V, --version", "print the version")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  /** plan and sync: the runs, shown (or only the closing summary with --quiet), and the exit code. */
  type RunOptions = { target?: string; json?: boolean; quiet?: boolean; showPersonal?: boolean };
  const runAndShow = async (opts: RunOptions, dryRun: boolean) => {
    personal.enabled = !!opts.showPersonal;
    const runs = personal.reveal(await runTargets(opts.target, dryRun, { quiet: opts.quiet }));
    if (opts.quiet && !opts.target) io.stdout(summary);
    else out(opts.target ? runs[0] : { runs }, !!opts.json, () => renderRuns(runs, { color }) + (summary && `\n${summary}`));
    exitCode = signalExit(dryRun ? planExitCode(runs) : syncExitCode(runs));
  };

  program
    .command("plan")
    .description("Dry run: show the field-level drift (exit 0 in sync, 2 drift or a customer gone, 1 error).")
    .option("--target <name>", "one target (default: every target)")
    .option("--json", "print the run result as JSON")
    .option("--quiet", "without --target: print only the closing summary line")
    .option("--show-personal", "show personal values in this output (logs and telemetry stay masked)")
    .action((opts: RunOptions) => runAndShow(opts, true));

  program
    .command("sync")
    .description("Correct drift (exit 0 in sync or corrected, 2 drift kept in observe mode, held or a customer gone, 3 in progress elsewhere or deferred, 1 error, uncertain or interrupted).")
    .option("--target <name>", "one target (default: every target)")
    .option("--json", "print the run result as JSON")
    .option("--quiet", "without --target: print only the closing summary line")
    .option("--show-personal", "show personal values in this output (logs and telemetry stay masked)")
    .action((opts: RunOptions) => runAndShow(opts, false));

  const desired = program.command("desired").description("Read or write the desired state of a target.");
  desired
    .command("get")
    .description("Print the desired state as JSON shaped like the profile.")
    .option("--target <name>", "target", DEFAULT_TARGET)
    .action(async (opts: { target: string }) => {
      const target = checkTargetName(opts.target);
      const row = await getEngine().desired.get(target);
      if (!row) throw new SyncError("TargetNotFound", `Target "${target}" has no desired-state row.`);
      io.stdout(`${JSON.stringify(documentFromDesired(parseDesiredEntity(target, row.properties)), null, 2)}\n`);
    });
  withWriteOptions(desired
    .command("set")
    .description(
      "Write the desired state from a JSON file shaped like the profile (validated before anything is written, against the country's rules too when Partner Center can be reached); a CustomerId at the top makes it a customer's billing profile.",
    )
    .requiredOption("--file <path>", "JSON file")
    .option("--target <name>", "target (default: default, or customer-<CustomerId> for a customer)")
    .option("--no-check", "do not ask Partner Center (the customer list, the country's rules, the address validation)")
    .option("--encoding <name>", "the file's text encoding, e.g. windows-1252 (default: utf-8)")
    .option("--dry-run", "show what would change; write nothing"))
    .action(async (opts: { file: string; target?: string; check: boolean; dryRun?: boolean; encoding?: string } & WriteOptions) => {
      const doc = readJsonFile(opts.file, opts.encoding);
      const target = checkTargetName(opts.target ?? defaultTargetOf(doc));
      const entity = entityFromDocument(target, doc);
      const state = parseDesiredEntity(target, entity);
      const e = getEngine();
      const context = await writeContext(e, "desired set", opts.reason);
      const before = (await e.desired.get(target)) ?? null;
      const confirmed = confirmWrites(io, [{ target, before: before?.properties ?? null, etag: before?.etag, after: entity }], { ...opts, yes: opts.yes || opts.dryRun });
      if (opts.dryRun || !confirmed.go) {
        exitCode = opts.dryRun ? EXIT.ok : NEEDS_CONFIRMATION;
        return;
      }
      const listed = opts.check ? await checkCustomerIds(new CustomerList(e), [state]) : { unknown: [] };
      if (listed.unknown.length > 0) throw new SyncError("InvalidDesiredState", `${listed.unknown[0].message}. Nothing was written.`);
      const notes = opts.check ? [...(listed.notChecked ? [listed.notChecked] : []), ...(await checkDesiredRow(e, state))] : ["Not checked against the customer list or the country's rules (--no-check)."];
      const written = (await writeDesiredRow(e, { target, before, after: entity }, context)).written;
      const managed = state.fields.size;
      if (!written) io.stdout(`The desired state of ${target} already holds these values: nothing written.\n`);
      else io.stdout(`Desired state of ${target} written: ${managed} managed field${managed === 1 ? "" : "s"}. Run \`billing-sync plan --target ${target}\` to see the drift.\n`);
      for (const note of notes) io.stdout(`  ${note}\n`);
    });

  withWriteOptions(desired
    .command("adopt")
    .description(
      "Take live values into the desired row (accept a hand change). With --all-customers: every customer without a row gets one holding its live billing profile. Shows the plan; --apply writes it.",
    )
    .option("--target <name>", "target", DEFAULT_TARGET)
    .option("--field <name...>", "fields to adopt (default: every managed field that drifts)")
    .option("--all-customers", "page through the account's customers and adopt each one that has no desired row")
    .option("--prune-departed", "with --all-customers: delete the desired rows whose customer is no longer in the customer list")
    .option("--apply", "write the desired row(s)")
    .option("--json", "print JSON"))
    .action(async (opts: { target: string; field?: string[]; allCustomers?: boolean; pruneDeparted?: boolean; apply?: boolean; json?: boolean } & WriteOptions) => {
      if (opts.pruneDeparted && !opts.allCustomers) throw new SyncError("ConfigError", "--prune-departed goes with --all-customers (the customer list tells who departed).");
      const e = getEngine();
      const context = await writeContext(e, opts.allCustomers ? `desired adopt --all-customers${opts.pruneDeparted ? " --prune-departed" : ""}` : "desired adopt", opts.reason);
      if (opts.allCustomers) {
        exitCode = await adoptCustomers(e, { apply: !!opts.apply, json: !!opts.json, context, prune: opts.pruneDeparted ? opts : undefined });
        return;
      }
      const edit = await planAdopt(e, checkTargetName(opts.target), opts.field);
      exitCode = await finishEdit(e, edit, { apply: !!opts.apply, json: !!opts.json, sync: false, context });
    });

  withWriteOptions(desired
    .command("import")
    .description(
      "Write many desired rows from a CSV or JSON-lines file (one row per target or customer). Every row is checked first; nothing is written if any is invalid, unless --partial.",
    )
    .requiredOption("--file <path>", "a .csv or .jsonl file")
    .option("--format <format>", "csv or jsonl (default: from the file name)")
    .option("--partial", "write the valid rows even when some are invalid (exit 1 all the same)")
    .option("--encoding <name>", "the file's text encoding, e.g. windows-1252 for a CSV saved by Excel on Windows (default: utf-8)")
    .option("--delimiter <char>", "the CSV delimiter: , ; or tab (default: judged from the header line)")
    .option("--merge", "set only the columns the file has; a stored row's other fields stay as they are (default: the file's row replaces the stored row)")
    .option("--dry-run", "show what the import would change, at any size; write nothing")
    .option("--no-check", "do not check customer ids against the partner's customer list")
    .option("--prune", "the file is the whole set of customer rows: delete the desired rows of customers not in it (partner rows never)")
    .option("--json", "print JSON"))
    .action(async (opts: { file: string; format?: string; partial?: boolean; merge?: boolean; prune?: boolean; dryRun?: boolean; check: boolean; json?: boolean; encoding?: string; delimiter?: string } & WriteOptions) => {
      if (opts.prune && opts.partial) throw new SyncError("ConfigError", "--prune deletes the customers the file does not name, so every row must be valid: it cannot be combined with --partial. Nothing was written.");
      const read = readDesiredFile(readTextFile(opts.file, opts.encoding), formatOf(opts.file, opts.format), { delimiter: delimiterOption(opts.delimiter) });
      const e = getEngine();
      const context = await writeContext(e, `desired import${opts.merge ? " --merge" : ""}${opts.prune ? " --prune" : ""}`, opts.reason);
      // A file whose header is wrong has no rows worth judging: their problems would only confuse.
      const plan = read.fileProblems.some((p) => p.row === 0) ? { rows: [], problems: [] } : await planImport(e, read.rows);
      const note = opts.check ? await checkImportCustomers(e, plan) : "Not checked against the partner's customer list (--no-check).";
      const { writes: rowWrites, problems: mergeProblems } = await importWrites(e, plan, { merge: !!opts.merge });
      const problems = [...read.fileProblems, ...plan.problems, ...mergeProblems];
      const deletions = opts.prune && problems.length === 0 ? await pruneWrites(e, new Set(plan.rows.map((r) => r.target))) : [];
      const writes = [...rowWrites, ...deletions];
      const guardable = !(problems.some((p) => p.row === 0) || (problems.length > 0 && !opts.partial));
      if (guardable || opts.dryRun) {
        const confirmed = confirmWrites(opts.json ? { ...io, stdout: () => undefined } : io, writes, { ...opts, yes: opts.yes || opts.dryRun });
        if (opts.dryRun || !confirmed.go) {
          out({ rows: read.rows.length, written: 0, problems, preview: confirmed.preview, needsConfirmation: !confirmed.go && !opts.dryRun }, !!opts.json, () => (opts.dryRun ? "Dry run: nothing written.\n" : ""));
          exitCode = problems.length > 0 ? EXIT.error : opts.dryRun ? EXIT.ok : NEEDS_CONFIRMATION;
          return;
        }
      }
      const total = read.rows.length + read.fileProblems.filter((p) => p.row > 0).length;
      // A problem of the file as a whole (row 0: the header, broken CSV) blocks even --partial.
      const blocked = problems.some((p) => p.row === 0) || (problems.length > 0 && !opts.partial);
      let written = 0;
      let deleted = 0;
      if (!blocked) {
        const progress = progressLine(io);
        written = await applyImport(e, plan, { writes: rowWrites, context, onProgress: ({ done, total: of }) => progress.update(`Writing desired rows: ${done}/${of}`) });
        if (deletions.length > 0) deleted = await applyImport(e, plan, { writes: deletions, context, onProgress: ({ done, total: of }) => progress.update(`Deleting desired rows of customers not in the file: ${done}/${of}`) });
        progress.done();
      }
      const pruned = opts.prune ? { deleted } : {};
      out({ rows: total, written, ...pruned, problems, ...(note ? { note } : {}) }, !!opts.json, () => renderImport({ total, written, ...pruned, problems, blocked, partial: !!opts.partial }) + (note ? `  ${note}\n` : ""));
      exitCode = problems.length > 0 ? EXIT.error : EXIT.ok;
    });

  desired
    .command("export")
    .description("Write every desired row to a CSV or JSON-lines file, as import reads it.")
    .requiredOption("--out <path>", "a .csv or .jsonl file, or - for standard output")
    .option("--format <format>", "csv or jsonl (default: from the file name; csv for -)")
    .option("--encoding <name>", "the file's text encoding, e.g. windows-1252 for Excel on Windows (default: utf-8)")
    .option("--delimiter <char>", "the CSV delimiter: , ; or tab (default: ,)")
    .action(async (opts: { out: string; format?: string; encoding?: string; delimiter?: string }) => {
      const format = opts.out === "-" ? formatOf("-.csv", opts.format) : formatOf(opts.out, opts.format);
      const encoding = checkEncoding(opts.encoding);
      if (opts.out === "-" && encoding !== "utf-8") throw new SyncError("ConfigError", `--encoding ${encoding} writes a file: give --out <path>.`);
      const delimiter = delimiterOption(opts.delimiter);
      const rows = await listDesiredRows(getEngine());
      const text = format === "csv" ? writeDesiredCsv(rows, { delimiter }) : writeDesiredJsonLines(rows);
      if (opts.out === "-") {
        io.stdout(text);
        return;
      }
      const bytes = encodeText(text, encoding, (index) => `Line ${lineAt(text, index)} of the export`);
      writeTextFile(opts.out, bytes);
      io.stdout(`Exported ${rows.length} desired row${rows.length === 1 ? "" : "s"} to ${opts.out} (${format}).\n`);
    });

  /** desired adopt --all-customers: count first; with --apply read each new customer's profile and write its row. */
  const adoptCustomers = async (e: Engine, how: { apply: boolean; json: boolean; context: WriteContext; prune?: WriteOptions }): Promise<number> => {
    const progress = progressLine(io);
    const report = await adoptAllCustomers(e, {
      apply: how.apply,
      context: how.context,
      onProgress: ({ done, total }) => progress.update(`Reading customer billing profiles: ${done}/${total}`),
    });
    progress.done();
    if (!how.prune) {
      out(report, how.json, () => renderAdoptAll(report, { applied: how.apply }));
      if (report.failed.length > 0) return EXIT.error;
      return !how.apply && report.toAdopt > 0 ? EXIT.drift : EXIT.ok;
    }
    // --prune-departed: the departed rows are deleted after the guard of any mass change (shown without --apply).
    const deletions = await deletionsOf(e, report.departed.map((d) => d.target));
    const shown = how.json ? { ...io, stdout: () => undefined } : io;
    if (!how.json) io.stdout(renderAdoptAll(report, { applied: how.apply }));
    const confirmed = deletions.length > 0 ? confirmWrites(shown, deletions, { ...how.prune, yes: how.prune.yes || !how.apply }) : undefined;
    let deleted = 0;
    if (how.apply && confirmed?.go) deleted = await applyImport(e, { rows: [], problems: [] }, { writes: deletions, context: how.context });
    const refused = how.apply && confirmed !== undefined && !confirmed.go;
    out({ ...report, pruneDeparted: { deleted, toDelete: deletions.length, needsConfirmation: refused } }, how.json, () =>
      deletions.length === 0 ? "No departed customer's row to delete.\n" : how.apply ? (refused ? "" : `Deleted ${deleted} desired row${deleted === 1 ? "" : "s"} of departed customers; their history and change log are kept.\n`) : `${deletions.length} departed customer row${deletions.length === 1 ? "" : "s"} would be deleted. Nothing written. Run again with --apply to delete them.\n`,
    );
    if (report.failed.length > 0) return EXIT.error;
    if (refused) return NEEDS_CONFIRMATION;
    return !how.apply && (report.toAdopt > 0 || deletions.length > 0) ? EXIT.drift : EXIT.ok;
  };

  withWriteOptions(program
    .command("restore")
    .description("Undo a run: what the profile held before its PUT becomes the desired value. Shows the plan; --apply writes it and syncs.")
    .requiredOption("--run <runId>", "the run to undo (see `billing-sync history`)")
    .option("--target <name>", "its target (default: search every target)")
    .option("--apply", "write the desired row and sync")
    .option("--json", "print JSON"), { guard: false })
    .action(async (opts: { run: string; target?: string; apply?: boolean; json?: boolean; reason?: string }) => {
      const e = getEngine();
      const context = await writeContext(e, "restore", opts.reason);
      const edit = await planRestore(e, opts.run, opts.target && checkTargetName(opts.target));
      exitCode = await finishEdit(e, edit, { apply: !!opts.apply, json: !!opts.json, sync: true, context });
    });

  /** Shared by restore and adopt: show the plan; with --apply, write (ETag-conditional) and optionally sync. */
  const finishEdit = async (e: Engine, edit: DesiredEdit, how: { apply: boolean; json: boolean; sync: boolean; context: WriteContext }): Promise<number> => {
    const { entity: _entity, etag: _etag, ...shown } = edit;
    if (!how.apply || edit.desiredChanges.length === 0) {
      out(shown, how.json, () => renderEdit(edit, { color, applied: false }));
      return edit.desiredChanges.length === 0 ? EXIT.ok : EXIT.drift;
    }
    await applyDesiredEdit(e, edit, how.context);
    const run = how.sync ? await e.syncTarget({ target: edit.target, trigger: "cli" }) : undefined;
    out({ ...shown, applied: true, run }, how.json, () => renderEdit(edit, { color, applied: true }) + (run ? renderRun(run, { color }) : ""));
    return run ? syncExitCode([run]) : EXIT.ok;
  };

  registerChangeCommands(desired, { io, getEngine, out, setExitCode: (code) => (exitCode = code) });

  const historyCommand = program
    .command("history")
    .description("Recorded runs, newest first.")
    .option("--target <name>", "one target (default: every target)")
    .addOption(new Option("--limit <n>", "runs per target").default(20).argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw new SyncError("ConfigError", `--limit must be a whole number from 1 to 1000, got "${v}"`);
      return n;
    }))
    .option("--json", "print JSON")
    .option("--show-personal", "show the old values history holds unmasked (the profile before each PUT)")
    .action(async (opts: { target?: string; limit: number; json?: boolean; showPersonal?: boolean }) => {
      const e = getEngine();
      const targets = opts.target ? [checkTargetName(opts.target)] : await e.listTargets();
      const columns = opts.showPersonal ? undefined : "public";
      const read = (opts.target ? await mapWithConcurrency(targets, HISTORY_READ_CONCURRENCY, (t) => e.history.list(t, { limit: opts.limit, columns })) : await newestRunsOf(e.history, targets, opts.limit, { columns })).flat();
      const records = opts.showPersonal ? read.map(revealHistory) : read;
      records.sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
      out({ runs: records.map(publicRecord) }, !!opts.json, () => renderHistory(records, { showChanges: !!opts.showPersonal }));
    });
  registerHistoryPrune(historyCommand, { getEngine, out });

  program
    .command("report")
    .description("Write an audit report: one self-contained HTML file with runs by outcome, every correction, failures and the desired state.")
    .requiredOption("--out <file>", "the HTML file to write")
    .option("--target <name>", "one target (default: every target)")
    .option("--since <date>", "start of the period, a UTC date or time (default: 30 days ago)")
    .option("--show-personal", "show personal values where history holds them (default: masked)")
    .action(async (opts: { out: string; target?: string; since?: string; showPersonal?: boolean }) => {
      const { writeReport } = await import("./report/command");
      const r = await writeReport(getEngine(), opts);
      const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
      io.stdout(
        `Report written to ${r.path} (${Math.round(r.bytes / 1024)} KiB): ${plural(r.targets, "target")}, ${plural(r.runs, "run")}, ${plural(r.corrections, "field correction")}, ${plural(r.failures, "failed run")}; personal values ${opts.showPersonal ? "SHOWN" : "masked"}.\n`,
      );
    });

  program
    .command("status")
    .description(
      "Every target at a glance: counts by the latest outcome, and the failed, contested and not-converged targets. Per target (with --target, --all, or when there are few): last outcome and time, last correction, observe/suspended since when, running now, next run, poison messages.",
    )
    .option("--target <name>", "one target, in full")
    .option("--all", `every target in full, however many (without it, only up to ${STATUS_DETAIL_LIMIT})`)
    .option("--json", "print JSON")
    .action(async (opts: { target?: string; all?: boolean; json?: boolean }) => {
      const e = getEngine();
      const safe = (list: TargetStatus[]) => list.map((s) => ({ ...s, lastRun: s.lastRun && publicRecord(s.lastRun) }));
      if (opts.target !== undefined) {
        const target = checkTargetName(opts.target);
        if (!(await e.desired.get(target))) throw new SyncError("TargetNotFound", `Target "${target}" has no desired-state row.`);
        const one = await e.targetStatus(target);
        out({ targets: safe([one]) }, !!opts.json, () => renderStatus([one]));
        return;
      }
      const summary = await e.statusSummary();
      const details = opts.all || summary.targets <= STATUS_DETAIL_LIMIT ? await e.status() : undefined;
      out({ summary, ...(details ? { targets: safe(details) } : {}) }, !!opts.json, () => renderSummary(summary) + (details && details.length ? `\n${renderStatus(details)}` : ""));
    });

  registerApprove(program, { getEngine, out });
  registerUnlock(program, { io, getEngine, setExitCode: (code) => void (exitCode = code) });

  const auth = program.command("auth").description("Production authentication (the secure application model).");
  auth
    .command("login")
    .description("One-time consent: sign in with a device code (works over SSH) and store the refresh token in Key Vault. Prints no token.")
    .option("--tenant <id>", "partner tenant id (default: PARTNER_CENTER_TENANT_ID)")
    .option("--client-id <id>", "app registration client id (default: PARTNER_CENTER_CLIENT_ID)")
    .option("--vault-url <url>", "Key Vault URL (default: PARTNER_CENTER_KEY_VAULT_URL)")
    .option("--secret-name <name>", "refresh-token secret name (default: PARTNER_CENTER_REFRESH_TOKEN_SECRET)")
    .option("--client-credential <kind>", "managed-identity or secret (default: PARTNER_CENTER_CLIENT_CREDENTIAL)")
    .option("--client-secret-stdin", "read a (short-lived) client secret from standard input for this sign-in only")
    .action(async (opts: AuthLoginArgs) => {
      const { runAuthLogin } = await import("./authLogin");
      await runAuthLogin(opts, { stdout: io.stdout, env: io.env, readStdin: io.readStdin, userAuth: io.authLogin ?? io.engineOptions?.userAuth });
    });

  program
    .command("demo")
    .description("The main job on an embedded default: Azurite and the Partner Center simulator, a drifted profile, plan, sync, plan.")
    .action(async () => {
      const { runDemo } = await import("./demo");
      exitCode = await runDemo(io);
    });

  program
    .command("simulator")
    .description("Run the Partner Center simulator alone (until Ctrl+C).")
    .option("--port <port>", "port (default: 7080; not 7071, func start's own)", "7080")
    .option("--token <token>", "bearer token it accepts (default: a random one, printed)")
    .option("--customers <n>", "customers to serve, each with a billing profile (default: none)")
    .action(async (opts: { port: string; token?: string; customers?: string }) => {
      const { runSimulator } = await import("./simulatorCommand");
      const customers = opts.customers === undefined ? undefined : Number(opts.customers);
      if (customers !== undefined && (!Number.isInteger(customers) || customers < 0 || customers > 100_000)) throw new SyncError("ConfigError", `--customers must be a whole number from 0 to 100000, got "${opts.customers}"`);
      await runSimulator({ port: Number(opts.port), token: opts.token, customers }, io);
    });

  return {
    program,
    exitCode: () => exitCode,
    // Bounded: a dead or silent ingestion endpoint costs at most the flush timeout.
    shutdown: async () => {
      await telemetry?.shutdown();
    },
  };
}

/** Runs one command line; returns the exit code. Never calls process.exit. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const { program, exitCode, shutdown } = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.error;
    const message = isSyncError(err) ? `${err.code}: ${err.message}` : `Error: ${(err as Error).message}`;
    io.stderr(`${message}\n`);
    return EXIT.error;
  } finally {
    await shutdown();
  }
  return exitCode();
}
