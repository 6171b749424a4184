import fc from "fast-check";
import { findKey, isJsonObject, isLosslessNumber, type Json, type JsonObject, parseJsonText, toJsonText } from "../../shared/core/json";
import { buildPutBody, planChanges } from "../../shared/model/diff";
import { parseProfile } from "../../shared/model/profile";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { startHarness, type Harness } from "../support/harness";
import { fcOptions, NUM_RUNS, TIME_LIMIT_IN_MS, scenario } from "./arbitraries";

jest.setTimeout(TIME_LIMIT_IN_MS);

/**
 * Any JSON number in a field we do not manage is sent back as written: 64-bit integers,
 * trailing zeros, exponents in either case and sign, negative zero, numbers beyond a
 * double's range, and an unquoted ETag. Runs: FC_NUM_RUNS (default 300).
 */
const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
const integerPart = fc.oneof(fc.constant("0"), fc.tuple(fc.integer({ min: 1, max: 9 }), digits(0, 25)).map(([d, rest]) => `${d}${rest}`));
/** A JSON number as text, by the grammar of RFC 8259 (any digits, any exponent), plus the classic troublemakers. */
export const jsonNumberText = fc.oneof(
  fc
    .tuple(fc.boolean(), integerPart, fc.option(digits(1, 20)), fc.option(fc.tuple(fc.constantFrom("e", "E"), fc.constantFrom("", "+", "-"), digits(1, 4))))
    .map(([negative, int, fraction, exponent]) => `${negative ? "-" : ""}${int}${fraction === null ? "" : `.${fraction}`}${exponent === null ? "" : exponent.join("")}`),
  fc.constantFrom("4242348048554929329", "-4242348048554929329", "9007199254740993", "1.10", "1e2", "1E+2", "-0", "0.0", "1e400", "5e-324", "123456789012345678901234567890.000"),
);

const SLOT = (i: number) => `\u0000num${i}\u0000`;

/** A profile (as text) with `numbers` placed in unmanaged spots, and the paths where each sits. */
function withNumbers(live: JsonObject, numbers: string[], etagToo: boolean): { text: string; paths: [string[], string][] } {
  const body = structuredClone(live);
  const paths: [string[], string][] = [];
  numbers.forEach((n, i) => {
    const spot = i % 4;
    const addressKey = findKey(body, "Address");
    if (spot === 1 && addressKey && isJsonObject(body[addressKey] ?? null)) {
      (body[addressKey] as JsonObject)[`x-num-${i}`] = SLOT(i);
      paths.push([[addressKey, `x-num-${i}`], n]);
    } else if (spot === 2) {
      body[`x-arr-${i}`] = [SLOT(i), { v: SLOT(i) }] as Json;
      paths.push([[`x-arr-${i}`, "1", "v"], n]);
    } else {
      body[`x-num-${i}`] = SLOT(i);
      paths.push([[`x-num-${i}`], n]);
    }
  });
  if (etagToo) {
    const attributes = body[findKey(body, "Attributes")!] as JsonObject;
    attributes[findKey(attributes, "Etag")!] = SLOT(numbers.length);
  }
  let text = JSON.stringify(body, null, 2);
  numbers.forEach((n, i) => (text = text.split(JSON.stringify(SLOT(i))).join(n)));
  if (etagToo) text = text.split(JSON.stringify(SLOT(numbers.length))).join(numbers[0]);
  return { text, paths };
}

function at(value: Json | undefined, path: string[]): Json | undefined {
  let node = value;
  for (const segment of path) node = Array.isArray(node) ? node[Number(segment)] : isJsonObject(node ?? null) ? (node as JsonObject)[segment] : undefined;
  return node;
}

describe(`numbers in fields we do not manage (${NUM_RUNS} runs)`, () => {
  it("go back in the PUT body exactly as written, wherever they sit, an unquoted ETag included", () => {
    fc.assert(
      fc.property(scenario, fc.array(jsonNumberText, { minLength: 1, maxLength: 8 }), fc.boolean(), ({ desired, live }, numbers, etagToo) => {
        const { text, paths } = withNumbers(live, numbers, etagToo);
        const profile = parseProfile(text, "GET");
        if (etagToo) expect(profile.etag).toBe(numbers[0]);
        const put = toJsonText(buildPutBody(profile, planChanges(desired, profile)));
        const sent = parseJsonText(put, { maxDepth: 64 }) as JsonObject;
        for (const [path, written] of paths) {
          const value = at(sent, path);
          expect(isLosslessNumber(value) && value.toString()).toBe(written);
          // As text too: the digits are on the wire, not a rounded double.
          expect(put).toContain(`:${written}`);
        }
      }),
      fcOptions,
    );
  });
});

describe("through the client and the simulator: the PUT on the wire carries the digits", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.setDesired("numbers", { PurchaseOrderNumber: "PO-NUMBERS" });
  });
  afterAll(() => h.stop());

  const runs = Math.max(10, Math.round(NUM_RUNS / 15));
  it(`${runs} profiles with random numbers, corrected over HTTP`, async () => {
    const engine = h.engine();
    await fc.assert(
      fc.asyncProperty(fc.array(jsonNumberText, { minLength: 1, maxLength: 6 }), async (numbers) => {
        const { text } = withNumbers(defaultLiveProfile(), numbers, false);
        h.sim.setProfile(parseJsonText(text, { maxDepth: 64 }) as JsonObject);
        h.sim.resetRequests();
        const result = await engine.syncTarget({ target: "numbers", trigger: "cli" });
        expect(result.outcome).toBe("corrected");
        const put = h.sim.requests.find((r) => r.method === "PUT")!.body;
        for (const n of numbers) expect(put).toContain(`:${n}`);
        // billingDay, a number the simulator wrote itself, comes back as it was served too.
        expect(put).toMatch(/"billingDay":5[,}]/);
      }),
      { numRuns: runs },
    );
  });
});
