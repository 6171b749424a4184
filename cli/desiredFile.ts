import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { jsonErrorPosition, stripBom, SyncError } from "../shared/core";
import type { RowInput, RowProblem } from "../shared/engine";
import { closestProperty, CONTROL_PROPERTIES, flattenDocument, KEY_PROPERTIES, maskValue, RESOURCE_KINDS } from "../shared/model";
import type { DesiredRow } from "../shared/stores";

/**
 * Desired-state files for `desired import` and `desired export`: CSV (one row per target,
 * a column per row property) and JSON lines (one profile-shaped document per line, as
 * `desired set` takes). CSV is read and written with csv-parse and csv-stringify.
 *
 * In CSV, an empty cell means "not managed" and a quoted empty cell ("") means "make this
 * field empty", as absence and "" do in a row. `Suspended` is true or false. An optional
 * `Target` column names the target; without it a customer's row is `customer-<id>`.
 */
export type FileFormat = "csv" | "jsonl";

export interface ReadFile {
  rows: RowInput[];
  /**
   * What could not be read: row 0 for the file as a whole (a header, broken CSV), which
   * blocks every write; a row number for one line (JSON lines), which blocks only that row.
   */
  fileProblems: RowProblem[];
}

export const TARGET_COLUMN = "Target";

export function formatOf(path: string, explicit?: string): FileFormat {
  const chosen = explicit ?? (/\.(jsonl|ndjson|json)$/i.test(path) ? "jsonl" : /\.csv$/i.test(path) ? "csv" : undefined);
  if (chosen === "csv" || chosen === "jsonl") return chosen;
  throw new SyncError("ConfigError", `Cannot tell the format of ${path}: name it .csv or .jsonl, or give --format csv|jsonl.`);
}

/** The CSV delimiters a file may use, as `--delimiter` names them. */
const DELIMITERS: Record<string, string> = { ",": ",", ";": ";", tab: "\t", "\t": "\t", "\\t": "\t" };

/** `--delimiter`: , ; or tab; a ConfigError for anything else. */
export function delimiterOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const delimiter = DELIMITERS[value.toLowerCase()];
  if (!delimiter) throw new SyncError("ConfigError", `--delimiter must be , ; or tab, got "${value.slice(0, 10)}".`);
  return delimiter;
}

/** The 1-based line of `text` that holds the character at `index`. */
export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/** Every column a file may have, in the order an export writes them. */
function knownColumns(): string[] {
  const fields = RESOURCE_KINDS.flatMap((k) => k.fields.map((f) => f.name));
  return [TARGET_COLUMN, ...KEY_PROPERTIES, ...CONTROL_PROPERTIES, ...new Set(fields)];
}

/** The nearest known column to a misspelt one, over every kind. */
function columnHint(name: string): string | undefined {
  for (const kind of RESOURCE_KINDS) {
    const hint = closestProperty(name, kind);
    if (hint) return hint;
  }
  return name.toLowerCase() === TARGET_COLUMN.toLowerCase() ? TARGET_COLUMN : undefined;
}

type Cell = string | { quoted: string };

/**
 * The delimiter of a CSV file, judged from its header line: the most frequent of , ; and
 * tab outside quotes (a German Excel writes ;, "Unicode Text" tabs); a comma when none is.
 */
export function detectDelimiter(text: string): string {
  const counts = new Map<string, number>([[",", 0], [";", 0], ["\t", 0]]);
  let quoted = false;
  for (const c of stripBom(text)) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === "\n" || c === "\r")) break;
    else if (!quoted && counts.has(c)) counts.set(c, counts.get(c)! + 1);
  }
  let best = ",";
  for (const [c, n] of counts) if (n > counts.get(best)!) best = c;
  return best;
}

const shownDelimiter = (d: string) => (d === "\t" ? "tab" : `"${d}"`);

/**
 * A header name as an error may show it: a known column as it is, anything else masked as
 * personal values are everywhere (a file without a header row has data on its first line).
 */
export function shownColumn(name: string): string {
  const known = knownColumns();
  if (known.includes(name)) return `"${name}"`;
  // A known object's prefix (DefaultAddress_) is not content: only the rest is masked.
  const cut = name.lastIndexOf("_");
  const prefix = name.slice(0, cut + 1);
  return cut > 0 && known.some((c) => c.startsWith(prefix)) ? `"${prefix}${maskValue(name.slice(cut + 1))}"` : `"${maskValue(name)}"`;
}

/** Problems of the header line: each named by position, its name shown only when it is a known column. */
function headerProblems(header: string[], known: Set<string>, delimiter: string): RowProblem[] {
  const problem = (message: string): RowProblem => ({ row: 0, line: 1, message });
  if (header.length === 1 && !known.has(header[0])) {
    // One column that starts with a known name and a delimiter: the file is split by another one.
    const start = [...known].filter((name) => header[0].startsWith(name)).sort((a, b) => b.length - a.length)[0];
    const next = start === undefined ? undefined : header[0].charAt(start.length);
    if (start !== undefined && next !== undefined && next !== "" && /[^\p{L}\p{N}_ ]/u.test(next)) {
      const fix = Object.values(DELIMITERS).includes(next) ? `run again with --delimiter ${next === "\t" ? "tab" : `"${next}"`}` : "billing-sync reads , ; or tab: save the file with one of those";
      return [problem(`the first line reads as one column that starts with ${start} followed by ${shownDelimiter(next)}: the file is separated by ${shownDelimiter(next)}, not ${shownDelimiter(delimiter)}; ${fix}`)];
    }
  }
  if (header.length > 0 && header.every((name) => name === "" || !known.has(name)) && header.some((name) => columnHint(name) === undefined)) {
    return [problem(`line 1 names no known column: the first line must name the columns (e.g. ${TARGET_COLUMN},CustomerId,Email); is the header row missing?`)];
  }
  const problems: RowProblem[] = [];
  header.forEach((name, i) => {
    if (name === "") problems.push(problem(`column ${i + 1} has no name`));
    else if (header.indexOf(name) !== i) problems.push(problem(`column ${i + 1} ${shownColumn(name)} repeats column ${header.indexOf(name) + 1}`));
    else if (!known.has(name)) {
      const hint = columnHint(name);
      problems.push(problem(`column ${i + 1} ${shownColumn(name)} is not a known column${hint ? ` (did you mean ${hint}?)` : ""}`));
    }
  });
  return problems;
}

export function readDesiredCsv(text: string, options: { delimiter?: string } = {}): ReadFile {
  const delimiter = options.delimiter ?? detectDelimiter(text);
  let records: { record: Cell[]; info: { lines: number } }[];
  try {
    records = parse(stripBom(text), {
      info: true,
      delimiter,
      skip_empty_lines: true,
      // A quoted cell keeps its quoting, so that "" (make empty) differs from an empty cell (not managed).
      cast: (value, context) => (context.quoting ? { quoted: value } : value),
    }) as unknown as { record: Cell[]; info: { lines: number } }[];
  } catch (err) {
    // csv-parse names the line and the problem (quotes, column count), never the cell's content.
    const e = err as { message?: string; lines?: number; code?: string };
    return { rows: [], fileProblems: [{ row: 0, line: e.lines, message: `the file is not valid CSV (${e.code ?? "error"}${e.lines ? ` at line ${e.lines}` : ""}; read with delimiter ${shownDelimiter(delimiter)})` }] };
  }
  if (records.length === 0) return { rows: [], fileProblems: [{ row: 0, line: 1, message: "the file is empty: the first line must name the columns" }] };
  const plain = (cell: Cell) => (typeof cell === "string" ? cell : cell.quoted);
  const header = records[0].record.map((c) => plain(c).trim());
  const known = new Set(knownColumns());
  const fileProblems = headerProblems(header, known, delimiter);
  const rows: RowInput[] = records.slice(1).map(({ record, info }, index) => {
    const entity: Record<string, unknown> = {};
    let target: string | undefined;
    record.forEach((cell, i) => {
      const name = header[i];
      if (!known.has(name)) return;
      // An empty unquoted cell: the property is absent.
      if (typeof cell === "string" && cell === "") return;
      const value = plain(cell);
      if (name === TARGET_COLUMN) target = value.trim();
      else if (name === "Suspended" && /^(true|false)$/i.test(value.trim())) entity[name] = value.trim().toLowerCase() === "true";
      else entity[name] = value;
    });
    return { row: index + 1, line: info.lines, target, entity };
  });
  return { rows, fileProblems };
}

export function readDesiredJsonLines(text: string): ReadFile {
  const known = new Set(knownColumns());
  const rows: RowInput[] = [];
  const fileProblems: RowProblem[] = [];
  let row = 0;
  stripBom(text)
    .split(/\r?\n/)
    .forEach((line, index) => {
      if (line.trim() === "") return;
      row++;
      let doc: unknown;
      try {
        doc = JSON.parse(line);
      } catch (err) {
        // The position only: the line holds personal data.
        const at = jsonErrorPosition(err, line);
        fileProblems.push({ row, line: index + 1, message: `not valid JSON${at ? ` (column ${at.column})` : ""}` });
        return;
      }
      let target: string | undefined;
      if (typeof doc === "object" && doc !== null && !Array.isArray(doc) && TARGET_COLUMN in doc) {
        const { [TARGET_COLUMN]: named, ...rest } = doc as Record<string, unknown>;
        target = typeof named === "string" ? named : JSON.stringify(named);
        doc = rest;
      }
      const flat = flattenDocument(doc);
      if (!flat.ok) {
        // A property's path is the file's content too: shown only when it is a known column.
        const problems = flat.problems.map((p) => p.replace(/^(.*): nest/, (_m, path: string) => `${shownColumn(path.replace(/\./g, "_"))}: nest`));
        fileProblems.push({ row, line: index + 1, message: problems.length ? problems.join("; ") : "not a JSON object shaped like the billing profile" });
        return;
      }
      const unknown = Object.keys(flat.entity).filter((name) => !known.has(name));
      if (unknown.length > 0) {
        const named = unknown.map((name) => {
          const hint = columnHint(name);
          return `${shownColumn(name)} is not a known property${hint ? ` (did you mean ${hint}?)` : ""}`;
        });
        fileProblems.push({ row, line: index + 1, message: named.join("; ") });
        return;
      }
      rows.push({ row, line: index + 1, target, entity: flat.entity });
    });
  return { rows, fileProblems };
}

export function readDesiredFile(text: string, format: FileFormat, options: { delimiter?: string } = {}): ReadFile {
  return format === "csv" ? readDesiredCsv(text, options) : readDesiredJsonLines(text);
}

/** Stored rows as CSV: the known columns any row uses, then any other property a (broken) row holds, so nothing is lost. */
export function writeDesiredCsv(rows: readonly DesiredRow[], options: { delimiter?: string } = {}): string {
  const used = new Set(rows.flatMap((r) => Object.keys(r.properties)));
  const known = knownColumns().filter((c) => c === TARGET_COLUMN || used.has(c));
  const extra = [...used].filter((c) => !known.includes(c)).sort();
  const columns = [...known, ...extra];
  const records = rows.map((r) =>
    columns.map((c) => {
      if (c === TARGET_COLUMN) return r.target;
      const value = r.properties[c];
      if (value === undefined || value === null) return undefined;
      return typeof value === "string" ? value : String(value);
    }),
  );
  // Every string quoted: an empty managed value is then "" and an absent one an empty cell.
  return stringify([columns, ...records], { quoted_string: true, delimiter: options.delimiter ?? "," });
}

/**
 * Stored rows as JSON lines: each row as a profile-shaped document (the row's properties
 * nested at their "_"), control properties at the top, with its Target. Rows are written
 * as stored, invalid ones included.
 */
export function writeDesiredJsonLines(rows: readonly DesiredRow[]): string {
  return rows.map((r) => `${JSON.stringify({ [TARGET_COLUMN]: r.target, ...documentFromEntity(r.properties) })}\n`).join("");
}

function documentFromEntity(properties: Record<string, unknown>): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  const top = new Set<string>([...KEY_PROPERTIES, ...CONTROL_PROPERTIES]);
  for (const [name, value] of Object.entries(properties)) {
    const path = top.has(name) ? [name] : name.split("_");
    let node = doc;
    for (const segment of path.slice(0, -1)) {
      if (typeof node[segment] !== "object" || node[segment] === null) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return doc;
}
