import { customerBillingProfile } from "./resources/customerBillingProfile";
import { partnerBillingProfile } from "./resources/partnerBillingProfile";
import type { ManagedField, ResourceKind, ResourceRef } from "./resource";

/** Every kind the engine knows. A row names the first kind whose key property it has; none = the partner profile. */
export const RESOURCE_KINDS: readonly ResourceKind[] = [customerBillingProfile, partnerBillingProfile];

/** Today's rows, unchanged: no key property means the partner's own billing profile. */
export const DEFAULT_KIND: ResourceKind = partnerBillingProfile;

export function kindOfEntity(entity: Record<string, unknown>): ResourceKind {
  return RESOURCE_KINDS.find((k) => k.key !== undefined && Object.prototype.hasOwnProperty.call(entity, k.key.property)) ?? DEFAULT_KIND;
}

export function kindNamed(name: string | undefined): ResourceKind | undefined {
  return RESOURCE_KINDS.find((k) => k.name === name);
}

/** The key properties of every kind: control properties of a row, like Mode. */
export const KEY_PROPERTIES: readonly string[] = RESOURCE_KINDS.flatMap((k) => (k.key ? [k.key.property] : []));

/**
 * A field looked up without knowing the kind (records that name fields only): the first
 * kind that has it. Names are unique across today's kinds; callers that know the kind use it.
 */
export function anyFieldNamed(name: string): ManagedField | undefined {
  for (const kind of RESOURCE_KINDS) {
    const found = kind.fieldsByName.get(name);
    if (found) return found;
  }
  return undefined;
}

/** The resource a stored row is about, read from its key property alone: known even when the rest of the row is invalid. */
export function resourceOfEntity(entity: Record<string, unknown>): ResourceRef {
  const kind = kindOfEntity(entity);
  return { kind, id: kind.key?.parse(entity[kind.key.property]) };
}
