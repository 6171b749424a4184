import fc from "fast-check";
import { SyncError } from "../../shared/core/errors";
import { checkTargetName } from "../../shared/model/target";
import { fcOptions, NUM_RUNS, TIME_LIMIT_IN_MS } from "./arbitraries";

jest.setTimeout(TIME_LIMIT_IN_MS);

/** Target names become PartitionKeys, OData literals and log text: fuzz the one gate they all pass. */
const PIECES = ["'", '"', "/", "\\", "#", "?", "\u0000", "\n", "\r", "\u007f", "\u0085", "\u2028", "%2F", " ", "..", " or ", " eq ", "PartitionKey", "ä", "a", "Z", "9", "-", "_", "."];
const names = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 70 }),
  fc.stringMatching(/^[A-Za-z0-9._-]{0,70}$/),
  fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((p) => p.join("")),
  fc.integer({ min: 1, max: 4096 }).map((n) => "a".repeat(n)),
);

describe(`checkTargetName fuzz (${NUM_RUNS * 3} runs)`, () => {
  it("accepts exactly 1-63 letters, digits, '.', '_', '-' starting with a letter or digit; refuses the rest with a clean 400", () => {
    let accepted = 0;
    fc.assert(
      fc.property(names, (name) => {
        const valid = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name);
        try {
          expect(checkTargetName(name)).toBe(name);
        } catch (err) {
          expect(valid).toBe(false);
          expect(err).toBeInstanceOf(SyncError);
          expect(err).toMatchObject({ code: "InvalidTargetName", statusCode: 400 });
          const message = (err as Error).message;
          expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
          expect(message.length).toBeLessThan(400);
          return;
        }
        accepted++;
        expect(valid).toBe(true);
        // Nothing that could end an OData literal, a key or a URL segment, or a log line.
        expect(name).not.toMatch(/['"/\\#?%\s\u0000-\u001f\u007f-\u009f]/);
        expect(name.length).toBeLessThanOrEqual(63);
      }),
      { numRuns: NUM_RUNS * 3 },
    );
    expect(accepted).toBeGreaterThan(NUM_RUNS / 10);
  });

  it("refuses every non-string", () => {
    fc.assert(
      fc.property(fc.anything().filter((v) => typeof v !== "string"), (value) => {
        expect(() => checkTargetName(value)).toThrow(expect.objectContaining({ code: "InvalidTargetName" }));
      }),
      fcOptions,
    );
  });
});
