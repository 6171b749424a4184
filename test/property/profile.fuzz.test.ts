import fc from "fast-check";
import { SyncError } from "../../shared/core/errors";
import { MANAGED_FIELDS } from "../../shared/model/fields";
import { getPath, isJsonObject } from "../../shared/core/json";
import { parseProfile } from "../../shared/model/profile";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { historyRows, startHarness, type Harness } from "../support/harness";
import { fcOptions, NUM_RUNS, TIME_LIMIT_IN_MS, scenario } from "./arbitraries";

jest.setTimeout(TIME_LIMIT_IN_MS);

/**
 * Fuzz of the response parser: random strings, random bytes, random JSON, and valid
 * profiles cut, spliced or re-typed. parseProfile either returns a LiveProfile or throws
 * SyncError("ResponseParseError"), never anything else; and through the engine, a body it
 * rejects never leads to a PUT.
 */
const MESSAGE = new RegExp(
  "^The GET response body (is empty|is not valid JSON( \\(line \\d+, column \\d+\\))?|is JSON but not an object \\(\\w+\\)|" +
    "has property names that differ only by case \\(.*\\)|has a property name twice, with different values( \\(line \\d+, column \\d+\\))?|" +
    "has Attributes\\.Etag of type \\w+, expected a string or a number|" +
    "has no Attributes\\.Etag and does not say it is a billing profile \\(Attributes\\.ObjectType (absent|\".*\")\\)|" +
    "says it is not a billing profile \\(Attributes\\.ObjectType \".*\", expected \"BillingProfile\"\\)|has an ETag but no field of a billing profile and no Attributes\\.ObjectType|" +
    "is nested more than 64 levels deep|has \\w+ of type \\w+, expected an object|has [\\w.]+ of type \\w+, expected a string); nothing was written\\.$",
  "s",
);

const tally = { accepted: 0, rejected: 0 };

function check(text: string): "accepted" | "rejected" {
  let profile;
  try {
    profile = parseProfile(text, "GET");
  } catch (err) {
    expect(err).toBeInstanceOf(SyncError);
    expect(err).toMatchObject({ code: "ResponseParseError", retryable: false });
    expect((err as Error).message).toMatch(MESSAGE);
    tally.rejected++;
    return "rejected";
  }
  expect(isJsonObject(profile.body)).toBe(true);
  // No ETag (an unguarded PUT) or a non-empty one.
  expect(profile.etag === undefined || (typeof profile.etag === "string" && profile.etag !== "")).toBe(true);
  for (const f of MANAGED_FIELDS) {
    const v = getPath(profile.body, f.path);
    expect(v === undefined || v === null || typeof v === "string").toBe(true);
  }
  tally.accepted++;
  return "accepted";
}

const validText = fc.oneof(scenario.map((s) => s.text), fc.constant(JSON.stringify(defaultLiveProfile(), null, 4)));

/** A valid body damaged: cut short, a character inserted, removed or replaced. */
const damaged = fc.tuple(validText, fc.nat(), fc.string({ unit: "binary", maxLength: 3 }), fc.constantFrom("cut", "insert", "delete", "replace")).map(([text, n, piece, how]) => {
  const at = text.length === 0 ? 0 : n % text.length;
  if (how === "cut") return text.slice(0, at);
  if (how === "insert") return text.slice(0, at) + piece + text.slice(at);
  if (how === "delete") return text.slice(0, at) + text.slice(at + 1);
  return text.slice(0, at) + (piece || "\"") + text.slice(at + 1);
});

/** JSON shaped like a profile, where managed fields and parents hold any JSON type. */
const retyped = fc
  .tuple(fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 1 }), fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })))
  .map(([po, address, city, etag]) => JSON.stringify({ purchaseOrderNumber: po, address: isJsonObject(address) ? { ...(address as object), city } : address, attributes: { etag } }));

/** Arrays and objects nested up to 100,000 levels (a hostile body within the 1 MiB limit). */
const deep = fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.boolean(), fc.boolean()).map(([n, arrays, wrapped]) => {
  const inner = arrays ? "[".repeat(n) + "]".repeat(n) : '{"a":'.repeat(n) + "null" + "}".repeat(n);
  return wrapped ? `{"x":${inner},"attributes":{"etag":"e"}}` : inner;
});

export const fuzzText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString("utf8")),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.constantFrom("", " ", "\uFEFF", "\uFEFF\uFEFF{}", "null", "[]", "{}", "<html><body>Service Unavailable</body></html>", '{"attributes":{"etag":""}}', '{"a":1,"A":2,"attributes":{"etag":"e"}}'),
  damaged,
  damaged,
  retyped,
  deep,
);

describe(`response parser fuzz (${NUM_RUNS} runs per source, ${NUM_RUNS * 4} mixed)`, () => {
  it.each([
    ["random strings", fc.string({ unit: "binary", maxLength: 400 })],
    ["random bytes", fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString("utf8"))],
    ["random JSON", fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v))],
    ["damaged valid profiles", damaged],
    ["profile-shaped JSON with managed fields of any type", retyped],
    ["deeply nested JSON", deep],
  ])("%s: a LiveProfile or a ResponseParseError, nothing else", (_label, source) => {
    fc.assert(fc.property(source, (text) => void check(text)), fcOptions);
  });

  it("everything mixed, four times as many", () => {
    fc.assert(fc.property(fuzzText, (text) => void check(text)), { numRuns: NUM_RUNS * 4 });
    // The fuzz reaches both sides of the parser.
    expect(tally.accepted).toBeGreaterThan(NUM_RUNS / 10);
    expect(tally.rejected).toBeGreaterThan(NUM_RUNS);
  });
});

describe("through the engine: a body the parser rejects never leads to a PUT", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.setDesired("fuzz", { PurchaseOrderNumber: "PO-FUZZ", PrimaryContact: { Email: "billing@contoso.example" } });
  });
  afterAll(() => h.stop());

  const runs = Math.max(20, Math.round(NUM_RUNS / 3));
  it(`${runs} fuzzed GET bodies served by the simulator`, async () => {
    const engine = h.engine();
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(fuzzText, async (fuzzed) => {
        // What the client reads: the text as the wire carries it (lone surrogates become U+FFFD),
        // and axios drops one leading BOM.
        const text = Buffer.from(fuzzed, "utf8").toString("utf8");
        let parses = true;
        try {
          parseProfile(text.replace(/^\uFEFF/, ""), "GET");
        } catch {
          parses = false;
        }
        h.sim.setProfile(defaultLiveProfile());
        h.sim.clearFaults();
        h.sim.resetRequests();
        h.sim.inject({ method: "GET", fault: { kind: "malformed", body: text } });
        const result = await engine.syncTarget({ target: "fuzz", trigger: "cli" });
        if (!parses) {
          rejected++;
          expect(result).toMatchObject({ outcome: "failed", error: { code: "ResponseParseError" }, recorded: true });
          expect([h.sim.count("GET"), h.sim.count("PUT")]).toEqual([1, 0]);
        } else {
          expect(result.error?.code).not.toBe("ResponseParseError");
        }
      }),
      { numRuns: runs },
    );
    expect(rejected).toBeGreaterThan(runs / 3);
    const rows = await historyRows(h, "fuzz");
    expect(rows.filter((r) => r.ErrorCode === "ResponseParseError")).toHaveLength(rejected);
    expect(rows.filter((r) => r.ErrorCode === "ResponseParseError" && r.PutMade === true)).toHaveLength(0);
  });
});
