import fc from "fast-check";
import { residualAfterPut } from "../../shared/model/convergence";
import { satisfies } from "../../shared/model/compare";
import { buildPutBody, planChanges, withoutManaged } from "../../shared/model/diff";
import { MANAGED_FIELDS } from "../../shared/model/fields";
import { findCaseCollision, findKey, getPath, isJsonObject, type Json, type JsonObject } from "../../shared/core/json";
import { parseProfile } from "../../shared/model/profile";
import { recase } from "../../simulator/server";
import { fcOptions, NUM_RUNS, TIME_LIMIT_IN_MS, scenario } from "./arbitraries";

jest.setTimeout(TIME_LIMIT_IN_MS);

/**
 * Properties of the plan and the PUT body over random live profiles (random casing per key,
 * unknown and nested fields, nulls, BOM, managed fields present, absent or null) and random
 * valid desired rows. Runs per property: FC_NUM_RUNS (default 300).
 */
const PARENTS = [...new Set(MANAGED_FIELDS.filter((f) => f.path.length > 1).map((f) => f.path[0]))];

/** The object with every managed leaf removed, and managed parents left empty or null dropped (a PUT may create one). */
const withoutManagedLeaves = (body: JsonObject) => withoutManaged(body, { dropEmptyParents: true });

/** All keys of an object tree, with their exact spelling, as paths. */
function keyPaths(value: Json, prefix = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keyPaths(v, `${prefix}[${i}]`));
  if (!isJsonObject(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}/${k}`, ...keyPaths(v, `${prefix}/${k}`)]);
}

describe(`plan and PUT body properties (${NUM_RUNS} runs each)`, () => {
  it("the PUT body is the live profile with only the changed managed fields replaced: unknown fields, nulls and casing kept", () => {
    fc.assert(
      fc.property(scenario, ({ desired, text }) => {
        const live = parseProfile(text, "GET");
        const changes = planChanges(desired, live);
        const put = buildPutBody(live, changes);
        // Everything that is not a managed field is exactly as received.
        expect(withoutManagedLeaves(put)).toEqual(withoutManagedLeaves(live.body));
        // Every key of the live body is still there, spelt the same; no key gained a case twin.
        const putKeys = new Set(keyPaths(put));
        const liveKeys = new Set(keyPaths(live.body));
        for (const k of liveKeys) expect(putKeys.has(k)).toBe(true);
        // A key the PUT adds (a managed field the live body lacked) is spelt camelCase or PascalCase.
        const segments = new Set(MANAGED_FIELDS.flatMap((f) => f.path.flatMap((p) => [p, p[0].toLowerCase() + p.slice(1)])));
        for (const k of putKeys) if (!liveKeys.has(k)) expect(segments.has(k.slice(k.lastIndexOf("/") + 1))).toBe(true);
        expect(findCaseCollision(put)).toBeUndefined();
        // A parent nobody changed is untouched, null included.
        for (const parent of PARENTS) {
          if (changes.some((c) => c.field.startsWith(`${parent}_`))) continue;
          const key = findKey(live.body, parent);
          expect(key === undefined ? findKey(put, parent) : put[key]).toEqual(key === undefined ? undefined : live.body[key]);
        }
        // Managed fields: the desired value where it changed, the live one otherwise.
        for (const field of MANAGED_FIELDS) {
          const change = changes.find((c) => c.field === field.name);
          expect(getPath(put, field.path)).toEqual(change ? change.to : getPath(live.body, field.path));
          if (change) expect(desired.fields.get(field.name)).toBe(change.to);
        }
        expect(getPath(put, ["Attributes", "Etag"])).toBe(live.etag);
        // A change is planned exactly where the live value does not satisfy the desired one.
        for (const [name, want] of desired.fields) {
          const field = MANAGED_FIELDS.find((f) => f.name === name)!;
          const liveValue = getPath(live.body, field.path);
          expect(changes.some((c) => c.field === name)).toBe(!satisfies(field, want, typeof liveValue === "string" ? liveValue : ""));
        }
      }),
      fcOptions,
    );
  });

  it("applying the PUT body (read back as the new live profile) finds no drift", () => {
    fc.assert(
      fc.property(scenario, ({ desired, text }) => {
        const live = parseProfile(text, "GET");
        const put = buildPutBody(live, planChanges(desired, live));
        const applied = parseProfile(JSON.stringify(put), "PUT");
        expect(planChanges(desired, applied)).toEqual([]);
        // And planning again from it changes nothing: a second sync makes no PUT.
        expect(buildPutBody(applied, [])).toEqual(put);
      }),
      fcOptions,
    );
  });

  it("the diff of desired against the service's answer to the PUT is empty (recased, BOM, CRLF, new ETag)", () => {
    fc.assert(
      fc.property(scenario, fc.constantFrom("camel" as const, "pascal" as const), fc.boolean(), ({ desired, text }, casing, bom) => {
        const live = parseProfile(text, "GET");
        const changes = planChanges(desired, live);
        const stored = recase(buildPutBody(live, changes), casing) as JsonObject;
        const attributes = stored[findKey(stored, "Attributes")!] as JsonObject;
        attributes[findKey(attributes, "Etag")!] = `"${Date.now()}"`;
        const answer = (bom ? "\uFEFF" : "") + JSON.stringify(stored, null, 4).replace(/\n/g, "\r\n");
        const response = parseProfile(answer, "PUT");
        expect(planChanges(desired, response)).toEqual([]);
        expect(residualAfterPut(desired, changes, response)).toEqual([]);
      }),
      fcOptions,
    );
  });
});
