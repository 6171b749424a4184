import { isLosslessNumber, LosslessNumber, parse, stringify } from "lossless-json";

/**
 * JSON values as the service sends them, and case-insensitive access to them. A number
 * read from a body is a LosslessNumber: it keeps the digits as written (64-bit integers,
 * 1.10, 1e2), so what we do not manage goes back exactly as received. `number` is for
 * values the code builds itself.
 */
export type Json = null | boolean | number | LosslessNumber | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export { isLosslessNumber, LosslessNumber };

/** Some Partner Center responses (and files saved on Windows) start with a UTF-8 BOM. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Where a text that JSON.parse refused goes wrong, as line and column, for a message that
 * must not quote the text (a profile or a desired-state file holds personal data; V8's own
 * messages may quote it). V8 names the offset for most errors; for the others (an
 * unexpected token) a second parser that always does is asked.
 */
export function jsonErrorPosition(err: unknown, text: string): { line: number; column: number } | undefined {
  const v8 = /at position (\d+)/.exec(err instanceof Error ? err.message : "");
  let offset = v8 ? Number(v8[1]) : /Unexpected end of JSON input/.test(err instanceof Error ? err.message : "") ? text.length : undefined;
  if (offset === undefined) {
    try {
      parse(text);
    } catch (again) {
      const found = /at position (\d+)/.exec(again instanceof Error ? again.message : "");
      if (found) offset = Number(found[1]);
    }
  }
  return offset === undefined ? undefined : lineAndColumn(text, offset);
}

/** Line and column (1-based) of a 0-based offset in a text. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, column: before.length - before.lastIndexOf("\n") };
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

/** The JSON type of a value, as a message names it ("number" for a LosslessNumber too). */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (isLosslessNumber(value)) return "number";
  return typeof value;
}

/** A body that could not be read as JSON: `position` is the 0-based offset of the problem, never a quote of the text. */
export class JsonReadError extends Error {
  constructor(
    readonly problem: "syntax" | "duplicate-key" | "too-deep",
    readonly position: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = "JsonReadError";
  }
}

/** Offset of the first container opened `maxDepth + 1` levels deep, outside strings; undefined if none. */
function tooDeepAt(text: string, maxDepth: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return undefined;
}

/**
 * Parses JSON without losing a digit: numbers become LosslessNumber. Refuses a key
 * repeated with a different value (which one is the field?) and nesting deeper than
 * `maxDepth`, checked before parsing: the parser recurses, and a hostile body must not
 * exhaust the stack. Errors carry the position only, never text of the body.
 */
export function parseJsonText(text: string, options: { maxDepth: number }): unknown {
  const deep = tooDeepAt(text, options.maxDepth);
  if (deep !== undefined) throw new JsonReadError("too-deep", deep, `nested more than ${options.maxDepth} levels deep`);
  try {
    return parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : "";
    const at = /position (\d+)/.exec(message);
    const position = at ? Number(at[1]) : undefined;
    if (/^Duplicate key/.test(message)) throw new JsonReadError("duplicate-key", position, "a property name appears twice with different values");
    throw new JsonReadError("syntax", position, "not valid JSON");
  }
}

/**
 * A small answer read as a JSON object (BOM tolerated), or what is wrong with it: "not
 * valid JSON" or "JSON but not an object (array)". For bodies never sent back (rules,
 * verdicts, errors): plain JSON.parse.
 */
export function readJsonObject(text: string): { value: JsonObject } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(stripBom(text));
  } catch {
    return { problem: "not valid JSON" };
  }
  return isJsonObject(value) ? { value } : { problem: `JSON but not an object (${jsonTypeOf(value)})` };
}

/** JSON text of a value, LosslessNumbers written exactly as they were read. */
export function toJsonText(value: Json, space?: number): string {
  return stringify(value, null, space) ?? "null";
}


/** The key of `obj` equal to `name` ignoring case, if any. */
export function findKey(obj: JsonObject, name: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

export function getPath(obj: JsonObject, path: readonly string[]): Json | undefined {
  let node: Json | undefined = obj;
  for (const segment of path) {
    if (!isJsonObject(node)) return undefined;
    const key: string | undefined = findKey(node, segment);
    node = key === undefined ? undefined : node[key];
  }
  return node;
}

/**
 * The service answers camelCase, some documents show PascalCase: a key we add follows
 * the casing the document already uses, so the PUT reads like what we received.
 */
function styleOf(obj: JsonObject): "camel" | "pascal" {
  const first = Object.keys(obj).find((k) => /^[A-Za-z]/.test(k));
  return first !== undefined && first[0] === first[0].toUpperCase() ? "pascal" : "camel";
}

function styled(name: string, style: "camel" | "pascal"): string {
  return style === "camel" ? name[0].toLowerCase() + name.slice(1) : name;
}

/** Sets a value at `path` in place, reusing existing keys (any case) and creating missing levels. */
export function setPath(obj: JsonObject, path: readonly string[], value: Json): void {
  const style = styleOf(obj);
  let node = obj;
  path.forEach((segment, i) => {
    const key = findKey(node, segment) ?? styled(segment, style);
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (!isJsonObject(next)) node[key] = {};
    node = node[key] as JsonObject;
  });
}

/** Keys that differ only by case make "which one is the field" unanswerable. */
export function findCaseCollision(value: Json, where = "$"): string | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findCaseCollision(value[i], `${where}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (!isJsonObject(value)) return undefined;
  const seen = new Map<string, string>();
  for (const key of Object.keys(value)) {
    const lower = key.toLowerCase();
    const other = seen.get(lower);
    if (other !== undefined) return `${where}: "${other}" and "${key}"`;
    seen.set(lower, key);
    const found = findCaseCollision(value[key], `${where}.${key}`);
    if (found) return found;
  }
  return undefined;
}

/** A deep copy; LosslessNumbers (immutable here) are shared, not turned into plain objects as structuredClone would. */
export function cloneJson<T extends Json>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => cloneJson(v)) as T;
  if (!isJsonObject(value)) return value;
  const copy: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    // "__proto__" from a body is an own property (as JSON.parse makes it), not the prototype.
    if (key === "__proto__") Object.defineProperty(copy, key, { value: cloneJson(v), writable: true, enumerable: true, configurable: true });
    else copy[key] = cloneJson(v);
  }
  return copy as T;
}
