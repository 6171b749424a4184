import { findCaseCollision, getPath, isJsonObject, type Json, type JsonObject, jsonErrorPosition, nestedDeeperThan, stripBom, SyncError, type SyncErrorOptions } from "../core";
import { DEFAULT_KIND } from "./kinds";
import type { ResourceKind } from "./resource";

/** A billing profile as the service returned it, read and checked, ready to diff and to PUT back. */
export interface LiveProfile {
  readonly kind: ResourceKind;
  /** The parsed body, untouched: unknown fields, links and attributes included. */
  readonly body: JsonObject;
  /**
   * Attributes.Etag of this body: the PUT must carry it. Undefined only for a kind that
   * allows unguarded writes (EtagPolicy.whenMissing), when the service sent none.
   */
  readonly etag: string | undefined;
}

const ETAG_PATH = ["Attributes", "Etag"] as const;
/** A billing profile is 3 levels deep; far deeper is not a profile, and would exhaust the stack of the walks below. */
export const MAX_PROFILE_DEPTH = 64;

function positionHint(err: unknown, text: string): string {
  // V8 messages may quote the body around the error; a billing profile holds personal
  // data, so only the line and column are kept.
  const at = jsonErrorPosition(err, text);
  return at ? ` (line ${at.line}, column ${at.column})` : "";
}

/**
 * Reads a billing profile body. Anything we could not read completely (not JSON, not an
 * object, ambiguous keys, no ETag, a managed field of the wrong type) is a
 * ResponseParseError: nothing built from it is ever PUT back.
 */
export function parseProfile(text: string, what: string, context: SyncErrorOptions = {}, kind: ResourceKind = DEFAULT_KIND): LiveProfile {
  const fail = (problem: string) =>
    new SyncError("ResponseParseError", `The ${what} response body ${problem}; nothing was written.`, { ...context, retryable: false });
  const stripped = stripBom(text);
  if (stripped.trim() === "") throw fail("is empty");
  let parsed: unknown;
  try {
    parsed = JSON.parse(stripped);
  } catch (err) {
    throw fail(`is not valid JSON${positionHint(err, stripped)}`);
  }
  if (!isJsonObject(parsed)) throw fail(`is JSON but not an object (${Array.isArray(parsed) ? "array" : typeof parsed})`);
  if (nestedDeeperThan(parsed, MAX_PROFILE_DEPTH)) throw fail(`is nested more than ${MAX_PROFILE_DEPTH} levels deep`);
  const body = parsed as JsonObject;
  const collision = findCaseCollision(body);
  if (collision) throw fail(`has property names that differ only by case (${collision})`);
  const etag = getPath(body, ETAG_PATH);
  const missing = etag === undefined || etag === null || etag === "";
  if (missing && kind.etag.whenMissing === "refuse") throw fail("has no Attributes.Etag, so an update could not be made conditional");
  if (!missing && typeof etag !== "string") throw fail(`has Attributes.Etag of type ${typeof etag}, expected a string`);
  for (const field of kind.fields) {
    const parent = getPath(body, field.path.slice(0, -1));
    if (field.path.length > 1 && parent !== undefined && parent !== null && !isJsonObject(parent)) {
      throw fail(`has ${field.path[0]} of type ${Array.isArray(parent) ? "array" : typeof parent}, expected an object`);
    }
    const value = getPath(body, field.path);
    if (value !== undefined && value !== null && typeof value !== "string") {
      throw fail(`has ${field.path.join(".")} of type ${typeof value}, expected a string`);
    }
  }
  return { kind, body, etag: missing ? undefined : (etag as string) };
}

/** The live value of a managed field as a string; absent and null read as "". */
export function liveValue(profile: LiveProfile, path: readonly string[]): string {
  const value: Json | undefined = getPath(profile.body, path);
  return typeof value === "string" ? value : "";
}
