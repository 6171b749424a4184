import { CONTROL_PROPERTIES, KEY_PROPERTIES, kindOfEntity, maskValue, type ResourceKind } from "../model";
import { diffRows } from "./desiredWrite";

/**
 * No mass change of the desired state without a second look: what a write of many rows
 * would do (per field: values changed, fields that stop or start being managed), and
 * whether it may go ahead without --yes. Pure: any command that writes desired rows
 * (set, import, adopt, restore, delete, import --prune) builds its RowWrites and asks.
 */
export interface RowWrite {
  target: string;
  /** The row as stored; null = a new row. */
  before: Record<string, unknown> | null;
  /** The stored row's ETag: the write is conditional on it. */
  etag?: string;
  /** The row to be written; null = the row is deleted. */
  after: Record<string, unknown> | null;
}

export interface FieldSummary {
  field: string;
  /** Targets where the field's value changes (managed before and after). */
  changed: number;
  /** Existing rows where the field stops being managed. */
  stopManaged: number;
  /** Rows where the field starts being managed (new rows included). */
  startManaged: number;
}

export interface Example {
  target: string;
  field: string;
  /** Masked when the field holds personal data; null = not managed. */
  before: string | null;
  after: string | null;
}

export interface WritePreview {
  /** Rows in the write. */
  rows: number;
  /** Rows whose managed values (or control properties) change: what --max-targets counts. */
  targetsChanged: number;
  newRows: number;
  deletedRows: number;
  /** A few of the deleted rows' targets (a deletion has no field worth an example). */
  deletedTargets: string[];
  unchangedRows: number;
  fields: FieldSummary[];
  /** Managed fields that stop being managed on existing rows: field-target pairs, and on how many targets. */
  stopManaging: { fields: number; targets: number };
  examples: Example[];
}

export const DEFAULT_MAX_TARGETS = 25;
const EXAMPLES = 3;

const NOT_MANAGED_FIELDS = new Set<string>([...CONTROL_PROPERTIES, ...KEY_PROPERTIES]);

function isManagedField(name: string): boolean {
  return !NOT_MANAGED_FIELDS.has(name);
}

function personal(field: string, kind: ResourceKind): boolean {
  if (NOT_MANAGED_FIELDS.has(field)) return false;
  return kind.fieldsByName.get(field)?.personal ?? true;
}

/** A value as the preview shows it: masked unless `showPersonal`. */
export function shownValue(value: string | null, field: string, kind: ResourceKind, showPersonal = false): string | null {
  if (value === null || showPersonal || !personal(field, kind)) return value;
  return maskValue(value);
}

export function previewWrites(writes: readonly RowWrite[], options: { showPersonal?: boolean } = {}): WritePreview {
  const fields = new Map<string, FieldSummary>();
  const field = (name: string) => {
    let f = fields.get(name);
    if (!f) fields.set(name, (f = { field: name, changed: 0, stopManaged: 0, startManaged: 0 }));
    return f;
  };
  const preview: WritePreview = { rows: writes.length, targetsChanged: 0, newRows: 0, deletedRows: 0, deletedTargets: [], unchangedRows: 0, fields: [], stopManaging: { fields: 0, targets: 0 }, examples: [] };
  for (const w of writes) {
    const edits = diffRows(w.before, w.after);
    if (edits.length === 0) {
      preview.unchangedRows++;
      continue;
    }
    preview.targetsChanged++;
    if (w.before === null) preview.newRows++;
    if (w.after === null) {
      preview.deletedRows++;
      if (preview.deletedTargets.length < EXAMPLES) preview.deletedTargets.push(w.target);
    }
    const kind = kindOfEntity(w.after ?? w.before ?? {});
    let stops = 0;
    for (const e of edits) {
      const f = field(e.field);
      if (e.before !== null && e.after !== null) f.changed++;
      else if (e.before === null) f.startManaged++;
      else {
        f.stopManaged++;
        // A deleted row stops managing everything: said by the delete count, not as dropped fields.
        if (w.before !== null && w.after !== null && isManagedField(e.field)) stops++;
      }
      if (preview.examples.length < EXAMPLES && w.after !== null && isManagedField(e.field)) {
        preview.examples.push({ target: w.target, field: e.field, before: shownValue(e.before, e.field, kind, options.showPersonal), after: shownValue(e.after, e.field, kind, options.showPersonal) });
      }
    }
    if (stops > 0) {
      preview.stopManaging.fields += stops;
      preview.stopManaging.targets++;
    }
  }
  preview.fields = [...fields.values()].sort((a, b) => a.field.localeCompare(b.field));
  return preview;
}

/** "12 fields of 400 targets would no longer be managed": distinct field names over the targets that lose them. */
export function stopManagingWords(writes: readonly RowWrite[]): string | undefined {
  const names = new Set<string>();
  let targets = 0;
  for (const w of writes) {
    if (w.before === null || w.after === null) continue;
    const lost = diffRows(w.before, w.after).filter((e) => e.after === null && isManagedField(e.field));
    if (lost.length === 0) continue;
    targets++;
    for (const e of lost) names.add(e.field);
  }
  if (targets === 0) return undefined;
  return `${names.size} field${names.size === 1 ? "" : "s"} of ${targets} target${targets === 1 ? "" : "s"} would no longer be managed`;
}

export type GuardVerdict = { go: true } | { go: false; reasons: string[] };

/**
 * May the write go ahead? Not without --yes when it changes managed values on more than
 * `maxTargets` targets, or stops managing fields of existing rows.
 */
export function guardWrites(writes: readonly RowWrite[], preview: WritePreview, options: { maxTargets?: number; yes?: boolean }): GuardVerdict {
  if (options.yes) return { go: true };
  const max = options.maxTargets ?? DEFAULT_MAX_TARGETS;
  const reasons: string[] = [];
  if (preview.targetsChanged > max) reasons.push(`it changes the desired state of ${preview.targetsChanged} targets, more than --max-targets ${max}`);
  const stop = stopManagingWords(writes);
  if (stop) reasons.push(stop);
  return reasons.length ? { go: false, reasons } : { go: true };
}
