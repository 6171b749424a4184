import { type GuardVerdict, shownValue, type WritePreview } from "../shared/engine";
import { kindOfEntity, maskOutsideText } from "../shared/model";
import type { ChangeEntry } from "../shared/stores";

/** Human views of change control: the preview of a desired-state write, and the change log. */

const quote = (value: string | null) => (value === null ? "(not managed)" : JSON.stringify(value));
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
/** Outside text made one safe line: control characters (escape sequences, forged lines) go. */
const oneLine = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").slice(0, 500);

export function renderPreview(preview: WritePreview, stopWords?: string): string {
  const lines: string[] = [];
  if (preview.targetsChanged === 0) return `No desired value would change (${plural(preview.rows, "row")} as stored).\n`;
  const parts = [`${preview.newRows} new`, `${preview.targetsChanged - preview.newRows - preview.deletedRows} changed`];
  if (preview.deletedRows) parts.push(`${preview.deletedRows} deleted`);
  if (preview.unchangedRows) parts.push(`${preview.unchangedRows} unchanged`);
  lines.push(`This write changes the desired state of ${plural(preview.targetsChanged, "target")} (${parts.join(", ")}):`);
  const width = Math.max(...preview.fields.map((f) => f.field.length));
  for (const f of preview.fields) {
    const what = [f.changed && `${plural(f.changed, "value")} changed`, f.startManaged && `starts being managed on ${plural(f.startManaged, "target")}`, f.stopManaged && `STOPS being managed on ${plural(f.stopManaged, "target")}`]
      .filter(Boolean)
      .join("; ");
    lines.push(`  ${f.field.padEnd(width)}  ${what}`);
  }
  if (stopWords) lines.push(`  ${stopWords[0].toUpperCase()}${stopWords.slice(1)}.`);
  if (preview.deletedRows) {
    const more = preview.deletedRows - preview.deletedTargets.length;
    lines.push(`  Rows deleted: ${preview.deletedTargets.join(", ")}${more > 0 ? ` and ${more} more` : ""} (their history and change log are kept).`);
  }
  if (preview.examples.length) {
    lines.push("  For example:");
    for (const e of preview.examples) lines.push(`    ${e.target}  ${e.field}: ${quote(e.before)} -> ${quote(e.after)}`);
  }
  return `${lines.join("\n")}\n`;
}

export function renderRefusal(verdict: GuardVerdict): string {
  if (verdict.go) return "";
  return `Nothing was written: ${verdict.reasons.join("; and ")}. Look at the summary above; run again with --yes to write it.\n`;
}

/** One entry's fields, values masked unless showPersonal. */
export function shownFields(entry: ChangeEntry, showPersonal: boolean): { field: string; before: string | null; after: string | null }[] {
  const kind = kindOfEntity(entry.rowAfter ?? {});
  return entry.fields.map((f) => ({ field: f.field, before: shownValue(f.before, f.field, kind, showPersonal), after: shownValue(f.after, f.field, kind, showPersonal) }));
}

export function shownReason(entry: ChangeEntry, showPersonal: boolean): string | undefined {
  if (entry.reason === undefined) return undefined;
  return showPersonal ? oneLine(entry.reason) : maskOutsideText(entry.reason);
}

/** An entry as `desired log --json` gives it: values masked unless showPersonal; the whole row after is left out. */
export function publicEntry(entry: ChangeEntry, showPersonal: boolean): Record<string, unknown> {
  const { rowAfter: _row, fields: _fields, reason: _reason, actor, ...rest } = entry;
  return { ...rest, actor: oneLine(actor), reason: shownReason(entry, showPersonal), fields: shownFields(entry, showPersonal) };
}

function headline(e: ChangeEntry): string {
  const who = e.kind === "outside" ? "who: unknown" : `by ${oneLine(e.actor)} (${e.verified ? "verified" : "unverified"}) via ${e.via}`;
  const what = { write: e.command, delete: `${e.command} (row deleted)`, outside: "CHANGED OUTSIDE BILLING-SYNC", accept: `${e.command} (accepted the change made outside)` }[e.kind] ?? e.command;
  const state = e.state === "done" ? "" : ` [${e.state === "pending" ? "PENDING: the write may still be in flight" : "did not happen"}]`;
  return `${e.at}  ${e.target}  ${what}${state}  ${who}`;
}

export function renderChangeLog(entries: readonly ChangeEntry[], options: { showPersonal: boolean }): string {
  if (entries.length === 0) return "No changes to the desired state are logged.\n";
  const lines: string[] = [];
  for (const e of entries) {
    lines.push(headline(e));
    const reason = shownReason(e, options.showPersonal);
    if (reason) lines.push(`  reason: ${reason}`);
    for (const f of shownFields(e, options.showPersonal)) lines.push(`  ${f.field}: ${quote(f.before)} -> ${quote(f.after)}`);
  }
  if (!options.showPersonal) lines.push("Personal values masked; --show-personal shows them.");
  return `${lines.join("\n")}\n`;
}
