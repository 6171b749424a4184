/** JSON values as the service sends them, and case-insensitive access to them. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

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
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require("lossless-json") as typeof import("lossless-json")).parse(text);
    } catch (again) {
      const found = /at position (\d+)/.exec(again instanceof Error ? again.message : "");
      if (found) offset = Number(found[1]);
    }
  }
  if (offset === undefined) return undefined;
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, column: before.length - before.lastIndexOf("\n") };
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
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

/**
 * Whether `value` nests arrays and objects more than `limit` levels deep. Iterative, so a
 * hostile body cannot exhaust the stack here (the recursive walks below rely on it).
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== "object" || node === null) continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
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

export function cloneJson<T extends Json>(value: T): T {
  return structuredClone(value);
}
