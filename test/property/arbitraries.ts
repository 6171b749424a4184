import fc from "fast-check";
import { parseDesiredEntity, type DesiredState } from "../../shared/model/desired";
import { MANAGED_FIELDS, type ManagedField } from "../../shared/model/fields";
import { findCaseCollision, type Json, type JsonObject } from "../../shared/core/json";

/**
 * Generators for the property tests: random live billing profiles as the service (or a
 * stranger one) could send them, and random valid desired rows, valid by the same limits
 * shared/model/fields.ts and shared/model/desired.ts enforce (parseDesiredEntity checks each one).
 *
 * Runs per property: FC_NUM_RUNS (default 300), e.g. `FC_NUM_RUNS=20000 npx jest test/property`.
 */
export const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 300);
export const fcOptions = { numRuns: NUM_RUNS };
/** Per-test time limit that grows with FC_NUM_RUNS (the default suite stays well inside 30 s). */
export const TIME_LIMIT_IN_MS = Math.max(30_000, NUM_RUNS * 40);

const CONTROL = /[\u0000-\u001f\u007f]/;

/** A string of at most `max` UTF-16 units, ASCII, anything printable, or with surrounding spaces. */
function text(max: number, min = 0): fc.Arbitrary<string> {
  const core = fc.oneof(
    fc.string({ unit: "grapheme-ascii", minLength: min, maxLength: max }),
    fc.string({ unit: "binary", minLength: min, maxLength: Math.max(min, Math.floor(max / 2)) }),
    fc.constantFrom("", " ", "Ünïcødé Straße", "東京都", "O'Brien \"Jr\"", "a\u00a0b", "😀 emoji"),
  );
  return core
    .map((s) => s.replace(/[\u0000-\u001f\u007f]/g, ""))
    .filter((s) => s.trim().length >= min && s.trim().length <= max && !CONTROL.test(s));
}

const alnum = (min: number, max: number) => fc.stringMatching(new RegExp(`^[a-zA-Z0-9]{${min},${max}}$`));

function email(): fc.Arbitrary<string> {
  return fc
    .tuple(fc.stringMatching(/^[a-zA-Z0-9._%+-]{1,40}$/), fc.stringMatching(/^[a-zA-Z0-9-]{1,40}$/), fc.stringMatching(/^[a-zA-Z]{2,8}$/))
    .map(([local, domain, tld]) => `${local}@${domain}.${tld}`);
}

const phone = () => fc.stringMatching(/^[0-9+()\-. /x]{0,40}$/).filter((s) => s.trim().length <= 40);

/** A valid desired value for one field (surrounding spaces allowed: they are trimmed). */
export function desiredValue(field: ManagedField): fc.Arbitrary<string> {
  if (field.kind === "email") return fc.oneof(email(), fc.constant(""));
  if (field.kind === "phone") return phone();
  if (field.kind === "culture") return fc.oneof(fc.stringMatching(/^[a-z]{2,3}(-[A-Za-z0-9]{1,8})?$/), fc.constant(""));
  return text(field.maxLength, field.minLength);
}

/** A random valid desired row: each managed field absent (not managed) or set; sometimes observe mode. */
export function desiredState(): fc.Arbitrary<DesiredState> {
  const fields = Object.fromEntries(MANAGED_FIELDS.map((f) => [f.name, desiredValue(f)]));
  return fc.record(fields, { requiredKeys: [] }).map((entity) => parseDesiredEntity("prop", entity));
}

/** Every casing a key might come in: camel, Pascal, lower, upper, or mixed per character. */
function casing(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant(name[0].toLowerCase() + name.slice(1)),
    fc.constant(name),
    fc.constant(name.toLowerCase()),
    fc.constant(name.toUpperCase()),
    fc.mixedCase(fc.constant(name)),
  );
}

/** Unknown keys that never collide, ignoring case, with each other or with a known name. */
function unknownFields(known: readonly string[], depth: number): fc.Arbitrary<[string, Json][]> {
  const value: fc.Arbitrary<Json> = depth > 0 ? json(depth) : fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean());
  const taken = new Set(known.map((k) => k.toLowerCase()));
  return fc
    .uniqueArray(fc.tuple(fc.oneof(alnum(1, 12).map((k) => `x${k}`), fc.string({ minLength: 1, maxLength: 8 })), value), { maxLength: 5, selector: ([k]) => k.toLowerCase() })
    .map((pairs) => pairs.filter(([k]) => !taken.has(k.toLowerCase())));
}

/**
 * Any JSON, except keys that differ only by case: the parser refuses those anywhere in a
 * body (which one would the service mean?), so they belong to the fuzz, not here.
 */
function json(maxDepth: number): fc.Arbitrary<Json> {
  return (fc.jsonValue({ maxDepth }) as fc.Arbitrary<Json>).filter((v) => findCaseCollision(v) === undefined);
}

type Near = "same" | "spaced" | "upper" | "lower";
type Leaf = { slot: "absent" } | { slot: "null" } | { slot: "string"; value: string; near?: Near };
/** A profile drawn before the desired state is known: `resolve` turns "near the desired value" leaves into values. */
type Template = (desired: DesiredState) => JsonObject;

const NEAR: Record<Near, (v: string) => string> = { same: (v) => v, spaced: (v) => ` ${v} `, upper: (v) => v.toUpperCase(), lower: (v) => v.toLowerCase() };

/** A managed leaf: absent, null, a random string, or (often) something close to the desired value. */
function liveLeaf(field: ManagedField): fc.Arbitrary<Leaf> {
  return fc.oneof(
    fc.constant<Leaf>({ slot: "absent" }),
    fc.constant<Leaf>({ slot: "null" }),
    text(field.maxLength + 20).map((value): Leaf => ({ slot: "string", value })),
    fc.tuple(text(field.maxLength), fc.constantFrom<Near>("same", "spaced", "upper", "lower")).map(([value, near]): Leaf => ({ slot: "string", value, near })),
  );
}

function leafValue(leaf: Leaf, field: ManagedField, desired: DesiredState): Json | undefined {
  if (leaf.slot === "absent") return undefined;
  if (leaf.slot === "null") return null;
  const want = desired.fields.get(field.name);
  return leaf.near && want !== undefined ? NEAR[leaf.near](want) : leaf.value;
}

/** Shuffles entries by a drawn seed, so key order is no hint. */
function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let x = seed || 1;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function section(parent: string): fc.Arbitrary<((desired: DesiredState) => JsonObject) | null | undefined> {
  const fields = MANAGED_FIELDS.filter((f) => f.path.length === 2 && f.path[0] === parent);
  const leafNames = fields.map((f) => f.path[1]);
  const extraKnown = parent === "Address" ? ["Country", "FirstName", "LastName", "PhoneNumber"] : ["MiddleName"];
  const body = fc
    .tuple(
      fc.tuple(...fields.map((f) => fc.tuple(casing(f.path[1]), liveLeaf(f)))),
      fc.tuple(...extraKnown.map((k) => fc.tuple(casing(k), fc.oneof(fc.string({ maxLength: 10 }), fc.constant(null))))),
      unknownFields([...leafNames, ...extraKnown], 2),
      fc.nat(),
    )
    .map(([leaves, extras, unknown, seed]) => (desired: DesiredState) => {
      const entries: [string, Json][] = [];
      leaves.forEach(([key, leaf], i) => {
        const value = leafValue(leaf, fields[i], desired);
        if (value !== undefined) entries.push([key, value]);
      });
      for (const [key, v] of extras) entries.push([key, v]);
      return Object.fromEntries(shuffle([...entries, ...unknown], seed));
    });
  return fc.oneof({ weight: 6, arbitrary: body }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant(undefined) });
}

/** A live profile, drawn before the desired state: random casing per key, unknown and nested fields, nulls. */
export function liveProfile(): fc.Arbitrary<Template> {
  const top = MANAGED_FIELDS.filter((f) => f.path.length === 1);
  const known = ["CompanyName", "BillingCurrency", "BillingDay", "ProfileType", "Links", "Attributes", "Address", "PrimaryContact", ...top.map((f) => f.name)];
  return fc
    .tuple(
      fc.tuple(...top.map((f) => fc.tuple(casing(f.name), liveLeaf(f)))),
      fc.tuple(casing("Address"), section("Address")),
      fc.tuple(casing("PrimaryContact"), section("PrimaryContact")),
      // Every documented profile says what it is (Attributes.ObjectType), in any casing.
      fc.tuple(casing("Attributes"), casing("Etag"), fc.string({ minLength: 1, maxLength: 30 }), casing("ObjectType"), casing("BillingProfile"), unknownFields(["Etag", "ObjectType"], 1)),
      fc.tuple(casing("CompanyName"), fc.oneof(fc.string(), fc.constant(null))),
      fc.tuple(casing("BillingDay"), fc.oneof(fc.integer({ min: 1, max: 28 }), fc.constant(null))),
      fc.tuple(casing("Links"), json(3)),
      unknownFields(known, 3),
      fc.nat(),
    )
    .map(([leaves, [aKey, address], [cKey, contact], [attrKey, etagKey, etag, typeKey, typeValue, attrExtra], [coKey, company], [bdKey, billingDay], [lKey, links], unknown, seed]) => (desired: DesiredState) => {
      const entries: [string, Json][] = [];
      leaves.forEach(([key, leaf], i) => {
        const value = leafValue(leaf, top[i], desired);
        if (value !== undefined) entries.push([key, value]);
      });
      if (address !== undefined) entries.push([aKey, address === null ? null : address(desired)]);
      if (contact !== undefined) entries.push([cKey, contact === null ? null : contact(desired)]);
      entries.push([attrKey, Object.fromEntries([[etagKey, etag], [typeKey, typeValue], ...attrExtra])]);
      entries.push([coKey, company], [bdKey, billingDay], [lKey, links], ...unknown);
      return Object.fromEntries(shuffle(entries, seed));
    });
}

/** A desired state and a live profile (as text) drawn for it. */
export const scenario = fc
  .tuple(desiredState(), liveProfile(), fc.constantFrom(0, 2, 4), fc.boolean(), fc.boolean())
  .map(([desired, template, indent, crlf, bom]) => {
    const live = template(desired);
    const json = JSON.stringify(live, null, indent);
    return { desired, live, text: (bom ? "\uFEFF" : "") + (crlf ? json.replace(/\n/g, "\r\n") : json) };
  });
