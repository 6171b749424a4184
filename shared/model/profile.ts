import { findCaseCollision, getPath, isJsonObject, isLosslessNumber, type Json, type JsonObject, JsonReadError, jsonTypeOf, lineAndColumn, parseJsonText, stripBom, SyncError, type SyncErrorOptions } from "../core";
import { DEFAULT_KIND } from "./kinds";
import type { ResourceKind } from "./resource";

/** A billing profile as the service returned it, read and checked, ready to diff and to PUT back. */
export interface LiveProfile {
  readonly kind: ResourceKind;
  /** The parsed body, untouched: unknown fields, links and attributes included; numbers as written. */
  readonly body: JsonObject;
  /**
   * Attributes.Etag of this body as text (a quoted or an unquoted one), which the PUT
   * carries back as received. Undefined when the profile has none: a PUT is then
   * unguarded (last writer wins).
   */
  readonly etag?: string;
}

const ETAG_PATH = ["Attributes", "Etag"] as const;
const OBJECT_TYPE_PATH = ["Attributes", "ObjectType"] as const;
/** A billing profile is 3 levels deep; far deeper is not a profile, and would exhaust the stack of the parser and the walks below. */
export const MAX_PROFILE_DEPTH = 64;

function positionHint(position: number | undefined, text: string): string {
  // Only the line and column: a billing profile holds personal data, so no text of it is quoted.
  if (position === undefined) return "";
  const at = lineAndColumn(text, position);
  return ` (line ${at.line}, column ${at.column})`;
}

function readEtag(body: JsonObject, fail: (problem: string) => SyncError): string | undefined {
  const etag: Json | undefined = getPath(body, ETAG_PATH);
  if (etag === undefined || etag === null || etag === "") return undefined;
  if (typeof etag === "string") return etag;
  if (isLosslessNumber(etag)) return etag.toString();
  throw fail(`has Attributes.Etag of type ${jsonTypeOf(etag)}, expected a string or a number`);
}

/**
 * Reads a billing profile body. Anything we could not read completely (not JSON, not an
 * object, ambiguous keys, a managed field of the wrong type, no ETag and no sign of being
 * a billing profile) is a ResponseParseError: nothing built from it is ever PUT back.
 * Numbers keep their digits (see core/json).
 */
export function parseProfile(text: string, what: string, context: SyncErrorOptions = {}, kind: ResourceKind = DEFAULT_KIND): LiveProfile {
  const fail = (problem: string) =>
    new SyncError("ResponseParseError", `The ${what} response body ${problem}; nothing was written.`, { ...context, retryable: false });
  const stripped = stripBom(text);
  if (stripped.trim() === "") throw fail("is empty");
  let parsed: unknown;
  try {
    parsed = parseJsonText(stripped, { maxDepth: MAX_PROFILE_DEPTH });
  } catch (err) {
    if (!(err instanceof JsonReadError)) throw err;
    if (err.problem === "too-deep") throw fail(`is nested more than ${MAX_PROFILE_DEPTH} levels deep`);
    const problem = err.problem === "duplicate-key" ? "has a property name twice, with different values" : "is not valid JSON";
    throw fail(`${problem}${positionHint(err.position, stripped)}`);
  }
  if (!isJsonObject(parsed)) throw fail(`is JSON but not an object (${jsonTypeOf(parsed)})`);
  const body = parsed;
  const collision = findCaseCollision(body);
  if (collision) throw fail(`has property names that differ only by case (${collision})`);
  const etag = readEtag(body, fail);
  let holdsAField = false;
  for (const field of kind.fields) {
    const parent = getPath(body, field.path.slice(0, -1));
    if (field.path.length > 1 && parent !== undefined && parent !== null && !isJsonObject(parent)) {
      throw fail(`has ${field.path[0]} of type ${jsonTypeOf(parent)}, expected an object`);
    }
    const value = getPath(body, field.path);
    if (value !== undefined && value !== null && typeof value !== "string") {
      throw fail(`has ${field.path.join(".")} of type ${jsonTypeOf(value)}, expected a string`);
    }
    if (value !== undefined && value !== null) holdsAField = true;
  }
  // A PUT replaces the whole profile. Without an ETag nothing else vouches for the body
  // (an empty object, or another resource, would be PUT back as the profile): it must at
  // least say it is this kind's profile, as every documented one does.
  // With an ETag, a body that says it is something else, or that holds nothing of a
  // profile (`{"attributes":{"etag":"1"}}`), is refused too: the ETag would let the service
  // accept a PUT that clears every field we do not own.
  const objectType = getPath(body, OBJECT_TYPE_PATH);
  const saysKind = typeof objectType === "string" && objectType.toLowerCase() === kind.objectType.toLowerCase();
  const objectTypeText = typeof objectType === "string" ? JSON.stringify(objectType.slice(0, 40)) : "absent";
  if (etag === undefined && !saysKind) {
    throw fail(`has no Attributes.Etag and does not say it is a billing profile (Attributes.ObjectType ${objectTypeText})`);
  }
  if (objectType !== undefined && objectType !== null && !saysKind) {
    throw fail(`says it is not a billing profile (Attributes.ObjectType ${objectTypeText}, expected ${JSON.stringify(kind.objectType)})`);
  }
  if (!saysKind && !holdsAField) throw fail("has an ETag but no field of a billing profile and no Attributes.ObjectType");
  return etag === undefined ? { kind, body } : { kind, body, etag };
}

/** The live value of a managed field as a string; absent and null read as "". */
export function liveValue(profile: LiveProfile, path: readonly string[]): string {
  const value: Json | undefined = getPath(profile.body, path);
  return typeof value === "string" ? value : "";
}
