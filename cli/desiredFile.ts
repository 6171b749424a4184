import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { jsonErrorPosition, stripBom, SyncError } from "../shared/core";
import type { RowInput, RowProblem } from "../shared/engine";
import { closestProperty, CONTROL_PROPERTIES, flattenDocument, KEY_PROPERTIES, RESOURCE_KINDS } from "../shared/model";
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

export function readDesiredCsv(text: string): ReadFile {
  let records: { record: Cell[]; info: { lines: number } }[];
  try {
    records = parse(stripBom(text), {
      info: true,
      skip_empty_lines: true,
      // A quoted cell keeps its quoting, so that "" (make empty) differs from an empty cell (not managed).
      cast: (value, context) => (context.quoting ? { quoted: value } : value),
    }) as unknown as { record: Cell[]; info: { lines: number } }[];
  } catch (err) {
    // csv-parse names the line and the problem (quotes, column count), never the cell's content.
    const e = err as { message?: string; lines?: number; code?: string };
    return { rows: [], fileProblems: [{ row: 0, line: e.lines, message: `the file is not valid CSV (${e.code ?? "error"}${e.lines ? ` at line ${e.lines}` : ""})` }] };
  }
  if (records.length === 0) return { rows: [], fileProblems: [{ row: 0, line: 1, message: "the file is empty: the first line must name the columns" }] };
  const plain = (cell: Cell) => (typeof cell === "string" ? cell : cell.quoted);
  const header = records[0].record.map((c) => plain(c).trim());
  const known = new Set(knownColumns());
  const fileProblems: RowProblem[] = [];
  header.forEach((name, i) => {
    if (name === "") fileProblems.push({ row: 0, line: 1, message: `column ${i + 1} has no name` });
    else if (header.indexOf(name) !== i) fileProblems.push({ row: 0, line: 1, message: `column ${i + 1} "${name}" repeats column ${header.indexOf(name) + 1}` });
    else if (!known.has(name)) {
      const hint = columnHint(name);
      fileProblems.push({ row: 0, line: 1, message: `column ${i + 1} "${name.slice(0, 60)}" is not a known column${hint ? ` (did you mean ${hint}?)` : ""}` });
    }
  });
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
        fileProblems.push({ row, line: index + 1, message: flat.problems.length ? flat.problems.join("; ") : "not a JSON object shaped like the billing profile" });
        return;
      }
      rows.push({ row, line: index + 1, target, entity: flat.entity });
    });
  return { rows, fileProblems };
}

export function readDesiredFile(text: string, format: FileFormat): ReadFile {
  return format === "csv" ? readDesiredCsv(text) : readDesiredJsonLines(text);
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
