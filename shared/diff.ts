import { satisfies } from "./compare";
import type { DesiredState } from "./desired";
import { MANAGED_FIELDS } from "./fields";
import { cloneJson, setPath, type JsonObject } from "./json";
import { liveValue, type LiveProfile } from "./profile";

export interface FieldChange {
  readonly field: string;
  readonly from: string;
  readonly to: string;
}

/** Field-level changes that bring `live` to `desired`, sorted by field name. Pure. */
export function planChanges(desired: DesiredState, live: LiveProfile): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of MANAGED_FIELDS) {
    const to = desired.fields.get(field.name);
    if (to === undefined) continue;
    const from = liveValue(live, field.path);
    if (!satisfies(field, to, from)) changes.push({ field: field.name, from, to });
  }
  return changes.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
}

/**
 * The PUT body: the live profile exactly as received (unknown fields, links, casing and
 * Attributes.Etag included) with only the changed managed fields replaced. Pure: `live`
 * is not modified.
 */
export function buildPutBody(live: LiveProfile, changes: readonly FieldChange[]): JsonObject {
  const body = cloneJson(live.body);
  for (const change of changes) {
    const field = MANAGED_FIELDS.find((f) => f.name === change.field);
    if (!field) throw new Error(`planChanges produced an unknown field ${change.field}`);
    setPath(body, field.path, change.to);
  }
  return body;
}
