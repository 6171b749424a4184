import { satisfies } from "./compare";
import type { DesiredState } from "./desired";
import { DEFAULT_KIND } from "./kinds";
import type { ResourceKind } from "./resource";
import { cloneJson, findKey, getPath, isJsonObject, type JsonObject, setPath } from "../core";
import { liveValue, type LiveProfile } from "./profile";

export interface FieldChange {
  readonly field: string;
  readonly from: string;
  readonly to: string;
}

/** Field-level changes that bring `live` to `desired`, sorted by field name. Pure. */
export function planChanges(desired: DesiredState, live: LiveProfile): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of desired.resource.kind.fields) {
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
    const field = live.kind.fieldsByName.get(change.field);
    if (!field) throw new Error(`planChanges produced an unknown field ${change.field}`);
    setPath(body, field.path, change.to);
  }
  return body;
}

export interface WithoutManagedOptions {
  /** Whose managed fields; default the partner billing profile. */
  kind?: ResourceKind;
  /** Only these managed fields (row names); default all. */
  only?: ReadonlySet<string>;
  /** Also drop a managed parent (Address, PrimaryContact) left empty or null: a PUT may create one. */
  dropEmptyParents?: boolean;
}

/**
 * A copy of a profile with managed fields removed (paths resolved ignoring case): what a PUT
 * must leave exactly as read. The demo and the tests compare PUT bodies with it.
 */
export function withoutManaged(body: JsonObject, options: WithoutManagedOptions = {}): JsonObject {
  const copy = cloneJson(body);
  const fields = (options.kind ?? DEFAULT_KIND).fields.filter((f) => !options.only || options.only.has(f.name));
  for (const field of fields) {
    const parent = field.path.length === 1 ? copy : getPath(copy, field.path.slice(0, -1));
    if (!isJsonObject(parent ?? null)) continue;
    const key = findKey(parent as JsonObject, field.path[field.path.length - 1]);
    if (key !== undefined) delete (parent as JsonObject)[key];
  }
  if (options.dropEmptyParents) {
    for (const name of new Set(fields.filter((f) => f.path.length > 1).map((f) => f.path[0]))) {
      const key = findKey(copy, name);
      const value = key === undefined ? undefined : copy[key];
      if (key !== undefined && (value === null || (isJsonObject(value ?? null) && Object.keys(value as JsonObject).length === 0))) delete copy[key];
    }
  }
  return copy;
}
