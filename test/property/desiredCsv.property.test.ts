import fc from "fast-check";
import { readDesiredCsv, writeDesiredCsv } from "../../cli/desiredFile";
import { checkDesiredEntity } from "../../shared/model/desired";
import { customerBillingProfile } from "../../shared/model/resources/customerBillingProfile";
import { partnerBillingProfile } from "../../shared/model/resources/partnerBillingProfile";
import type { DesiredRow } from "../../shared/stores/desiredStore";
import { desiredValue, fcOptions, NUM_RUNS, TIME_LIMIT_IN_MS } from "./arbitraries";

jest.setTimeout(TIME_LIMIT_IN_MS);

/**
 * The CSV of `desired export` read back by `desired import` (csv-stringify, then
 * csv-parse): any set of rows, with values holding separators, quotes, line breaks,
 * surrounding spaces and any Unicode, comes back the same, empty values ("make empty")
 * told apart from absent ones ("not managed").
 */
const HARD = ["", " ", ",", '"', '""', "\n", "\r\n", "a,b", 'say "hi"', "line1\nline2", "  padded  ", "=1+2", "ünïcødé", "東京", "😀", "\uFEFFbom", "'", ";", "\t"];

const cell = fc.oneof(
  fc.constantFrom(...HARD),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.array(fc.constantFrom(...HARD), { maxLength: 6 }).map((parts) => parts.join("")),
);

const target = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/);

/** Any row: the key, control properties and fields of one kind, each absent or set to any text (or, `valid`, to a valid value). */
function row(valid: boolean): fc.Arbitrary<Omit<DesiredRow, "etag">> {
  // Built once per kind: building value arbitraries (regex-based) inside chain() on every run is slow.
  const perKind = [customerBillingProfile, partnerBillingProfile].map((k) => {
    const fields = Object.fromEntries(k.fields.map((f) => [f.name, valid ? desiredValue(f) : cell]));
    const control: Record<string, fc.Arbitrary<unknown>> = { Mode: fc.constantFrom("enforce", "observe"), Suspended: fc.boolean() };
    if (k.key) control[k.key.property] = fc.uuid();
    const properties: fc.Arbitrary<Record<string, unknown>> = fc.record({ ...control, ...fields }, { requiredKeys: k.key ? [k.key.property] : [] });
    return fc.record({ target, properties });
  });
  return fc.oneof(...perKind);
}

function roundTrip(rows: Omit<DesiredRow, "etag">[]): void {
  const csv = writeDesiredCsv(rows.map((r) => ({ ...r, etag: "" })));
  const back = readDesiredCsv(csv);
  expect(back.fileProblems).toEqual([]);
  expect(back.rows.map((r) => ({ target: r.target, properties: r.entity }))).toEqual(rows);
}

describe(`desired-state CSV round trip (${NUM_RUNS} runs each)`, () => {
  it("any text in any property comes back exactly", () => {
    fc.assert(fc.property(fc.array(row(false), { minLength: 1, maxLength: 8 }), roundTrip), fcOptions);
  });

  it("valid rows come back valid and equal to what was written", () => {
    fc.assert(
      fc.property(fc.array(row(true), { minLength: 1, maxLength: 8 }), (rows) => {
        for (const r of rows) expect(checkDesiredEntity(r.target, r.properties).ok).toBe(true);
        roundTrip(rows);
        for (const r of readDesiredCsv(writeDesiredCsv(rows.map((x) => ({ ...x, etag: "" })))).rows) expect(checkDesiredEntity(r.target!, r.entity).ok).toBe(true);
      }),
      fcOptions,
    );
  });
});
