import { findContested, residualAfterPut, splitSuppressed, valueHash } from "../../shared/model/convergence";
import { parseDesiredEntity } from "../../shared/model/desired";
import { parseProfile } from "../../shared/model/profile";
import { nextRun } from "../../shared/config/schedule";
import { sweepLimit } from "../../shared/engine/sweepGate";

const change = (field: string, from: string, to: string) => ({ field, from, to });

describe("valueHash", () => {
  it("is stable, differs by field and value, and follows the comparison rules", () => {
    expect(valueHash("TaxId", "A1")).toBe(valueHash("TaxId", "A1"));
    expect(valueHash("TaxId", "A1")).not.toBe(valueHash("TaxId", "A2"));
    expect(valueHash("TaxId", "A1")).not.toBe(valueHash("PurchaseOrderNumber", "A1"));
    expect(valueHash("PrimaryContact_Email", " A@B.co ")).toBe(valueHash("PrimaryContact_Email", "a@b.co"));
    expect(valueHash("TaxId", "A1")).not.toContain("A1");
  });
});

describe("splitSuppressed", () => {
  const memory = [{ field: "Address_City", desiredHash: valueHash("Address_City", "Seattle"), serviceHash: valueHash("Address_City", "SEATTLE"), desired: "Seattle", service: "SEATTLE" }];

  it("holds back a change the service already refused, while both values are unchanged", () => {
    const { apply, suppressed } = splitSuppressed([change("Address_City", "SEATTLE", "Seattle"), change("TaxId", "1", "2")], memory);
    expect(apply).toEqual([change("TaxId", "1", "2")]);
    expect(suppressed).toEqual(memory);
  });

  it("sends it again when the desired or the live value changed", () => {
    expect(splitSuppressed([change("Address_City", "SEATTLE", "Bellevue")], memory).apply).toHaveLength(1);
    expect(splitSuppressed([change("Address_City", "Tacoma", "Seattle")], memory).apply).toHaveLength(1);
  });
});

describe("residualAfterPut", () => {
  it("names the fields the PUT answer does not hold, masked where personal", () => {
    const desired = parseDesiredEntity("t", { Address_City: "Seattle", PrimaryContact_FirstName: "Avery", TaxId: "X" });
    const response = parseProfile(JSON.stringify({ address: { city: "SEATTLE" }, primaryContact: { firstName: "AVERY" }, taxId: "other", attributes: { etag: "e" } }), "PUT");
    const applied = [change("Address_City", "x", "Seattle"), change("PrimaryContact_FirstName", "x", "Avery")];
    expect(residualAfterPut(desired, applied, response)).toEqual([
      expect.objectContaining({ field: "Address_City", desired: "Seattle", service: "SEATTLE" }),
      expect.objectContaining({ field: "PrimaryContact_FirstName", desired: "A***", service: "A***" }),
    ]);
  });
});

describe("findContested", () => {
  const now = new Date("2026-11-22T12:00:00Z");
  const corrected = (at: string, fields: string[], extra: Partial<{ outcome: string; dryRun: boolean }> = {}) => ({ outcome: "corrected", dryRun: false, changedFields: fields, startedAt: at, ...extra });

  it("reports a field corrected 3 times within 24 h, with the count and the first time", () => {
    const records = [corrected("2026-11-22T11:00:00Z", ["TaxId"]), corrected("2026-11-22T06:00:00Z", ["TaxId", "Address_City"]), corrected("2026-11-21T13:00:00Z", ["TaxId"])];
    expect(findContested(records, now)).toEqual([{ field: "TaxId", count: 3, since: "2026-11-21T13:00:00Z" }]);
  });

  it("ignores older corrections, dry runs and runs that did not correct", () => {
    const records = [
      corrected("2026-11-22T11:00:00Z", ["TaxId"]),
      corrected("2026-11-22T10:00:00Z", ["TaxId"], { dryRun: true, outcome: "drift" }),
      corrected("2026-11-22T09:00:00Z", ["TaxId"], { outcome: "failed" }),
      corrected("2026-11-22T08:00:00Z", ["TaxId"]),
      corrected("2026-11-20T08:00:00Z", ["TaxId"]),
    ];
    expect(findContested(records, now)).toEqual([]);
  });

  describe("fights are fights: only corrections against one unchanged desired value count", () => {
    const to = (value: string) => ({ TaxId: valueHash("TaxId", value) });
    const at = (hour: number) => `2026-11-22T${String(hour).padStart(2, "0")}:00:00Z`;
    const against = (hour: number, value: string | undefined) => ({ ...corrected(at(hour), ["TaxId"]), ...(value === undefined ? {} : { desiredHashes: to(value) }) });

    it("a correction that follows a change of the desired value is not a third correction of a fight", () => {
      // Two corrections to A, then `desired set` B and its correction.
      expect(findContested([against(11, "B"), against(9, "A"), against(8, "A")], now)).toEqual([]);
    });

    it("a value that keeps coming back against an unchanged desired value is contested", () => {
      expect(findContested([against(11, "B"), against(10, "B"), against(9, "B"), against(8, "A")], now)).toEqual([{ field: "TaxId", count: 3, since: at(9) }]);
    });

    it("desired A, then B, then A again: the corrections before the change back do not count", () => {
      expect(findContested([against(11, "A"), against(10, "A"), against(9, "B"), against(8, "A"), against(7, "A")], now)).toEqual([]);
    });

    it("rows written before the hashes were kept count as against the same value, as they did", () => {
      expect(findContested([against(11, "A"), against(10, undefined), against(9, undefined)], now)).toEqual([{ field: "TaxId", count: 3, since: at(9) }]);
    });

    it("the desired hash of one field does not stop another field's count", () => {
      const records = [
        { ...corrected(at(11), ["TaxId", "Address_City"]), desiredHashes: { ...to("B"), Address_City: valueHash("Address_City", "X") } },
        { ...corrected(at(10), ["TaxId", "Address_City"]), desiredHashes: { ...to("A"), Address_City: valueHash("Address_City", "X") } },
        { ...corrected(at(9), ["Address_City"]), desiredHashes: { Address_City: valueHash("Address_City", "X") } },
      ];
      expect(findContested(records, now)).toEqual([{ field: "Address_City", count: 3, since: at(9) }]);
    });
  });
});

describe("sweepLimit", () => {
  it("is the setting when given, else 10% of the targets, at least 10", () => {
    expect(sweepLimit(100, 20)).toBe(20);
    expect(sweepLimit(5)).toBe(10);
    expect(sweepLimit(100)).toBe(10);
    expect(sweepLimit(101)).toBe(11);
    expect(sweepLimit(10_000)).toBe(1_000);
  });
});

describe("nextRun", () => {
  it("evaluates NCRONTAB with seconds, in UTC", () => {
    expect(nextRun("0 0 * * * *", new Date("2026-11-22T10:30:00Z"))).toBe("2026-11-22T11:00:00.000Z");
    expect(nextRun("0 */15 * * * *", new Date("2026-11-22T10:31:00Z"))).toBe("2026-11-22T10:45:00.000Z");
    expect(nextRun("not cron", new Date())).toBeUndefined();
  });
});
