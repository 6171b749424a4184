import { actorFromClaims, jwtClaims } from "../../shared/auth/storageIdentity";
import { parseChangeControl } from "../../shared/config/changeControl";
import { DEFAULT_MAX_TARGETS, guardWrites, previewWrites, type RowWrite, stopManagingWords } from "../../shared/engine/changeGuard";
import { diffRows } from "../../shared/engine/desiredWrite";

/** Change control's pure parts: the diff of two rows, the preview and guard of a write, who a token names, the settings. */
const customer = (i: number, extra: Record<string, unknown> = {}) => ({ CustomerId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, ...extra });
const writes = (n: number, before: (i: number) => Record<string, unknown> | null, after: (i: number) => Record<string, unknown> | null): RowWrite[] =>
  Array.from({ length: n }, (_, i) => ({ target: `t${i}`, before: before(i), after: after(i) }));

describe("diffRows", () => {
  it("names each property that differs, null for absent, booleans as text", () => {
    expect(diffRows({ A: "1", B: "x", Suspended: false }, { A: "2", C: "", Suspended: true })).toEqual([
      { field: "A", before: "1", after: "2" },
      { field: "B", before: "x", after: null },
      { field: "C", before: null, after: "" },
      { field: "Suspended", before: "false", after: "true" },
    ]);
    expect(diffRows({ A: "1" }, { A: "1" })).toEqual([]);
  });
});

describe("the write-time guard", () => {
  const email = (tag: string) => (i: number) => customer(i, { Email: `${tag}${i}@fabrikam.example` });

  it(`lets ${DEFAULT_MAX_TARGETS} changed targets through and stops at ${DEFAULT_MAX_TARGETS + 1}, unless --yes`, () => {
    const at = (n: number) => writes(n, email("old"), email("new"));
    for (const [n, go] of [[DEFAULT_MAX_TARGETS, true], [DEFAULT_MAX_TARGETS + 1, false]] as const) {
      const w = at(n);
      expect(guardWrites(w, previewWrites(w), {}).go).toBe(go);
      expect(guardWrites(w, previewWrites(w), { yes: true }).go).toBe(true);
    }
    const w = at(3);
    expect(guardWrites(w, previewWrites(w), { maxTargets: 2 })).toEqual({ go: false, reasons: ["it changes the desired state of 3 targets, more than --max-targets 2"] });
  });

  it("does not count rows that stay as they are", () => {
    const w = writes(40, email("same"), email("same"));
    const preview = previewWrites(w);
    expect(preview).toMatchObject({ targetsChanged: 0, unchangedRows: 40 });
    expect(guardWrites(w, preview, {}).go).toBe(true);
  });

  it("says in words how many fields of how many targets stop being managed, and needs --yes for one target too", () => {
    const w = writes(4, (i) => customer(i, { Email: "a@b.example", FirstName: "Ann", DefaultAddress_City: "Oslo", Mode: "enforce" }), (i) => customer(i, { Email: "a@b.example" }));
    expect(stopManagingWords(w)).toBe("2 fields of 4 targets would no longer be managed");
    expect(guardWrites(w.slice(0, 1), previewWrites(w.slice(0, 1)), {})).toEqual({ go: false, reasons: ["2 fields of 1 target would no longer be managed"] });
    const preview = previewWrites(w);
    expect(preview.fields.find((f) => f.field === "FirstName")).toEqual({ field: "FirstName", changed: 0, stopManaged: 4, startManaged: 0 });
    expect(preview.stopManaging).toEqual({ fields: 8, targets: 4 });
  });

  it("new rows start managing fields, deleted rows are counted as deletions, not as dropped fields", () => {
    const created = writes(2, () => null, (i) => customer(i, { Email: "x@y.example" }));
    expect(previewWrites(created)).toMatchObject({ newRows: 2, targetsChanged: 2 });
    const deleted = writes(2, (i) => customer(i, { Email: "x@y.example" }), () => null);
    expect(previewWrites(deleted)).toMatchObject({ deletedRows: 2, targetsChanged: 2, deletedTargets: deleted.map((w) => w.target), examples: [] });
    expect(stopManagingWords(deleted)).toBeUndefined();
    // A guard counts deletions as changes: 26 deletions need --yes, 25 do not.
    const many = (n: number) => writes(n, (i) => customer(i, { Email: "x@y.example" }), () => null);
    expect(guardWrites(many(25), previewWrites(many(25)), {})).toEqual({ go: true });
    expect(guardWrites(many(26), previewWrites(many(26)), {})).toMatchObject({ go: false, reasons: [expect.stringMatching(/26 targets, more than --max-targets 25/)] });
    expect(previewWrites(many(26)).deletedTargets).toHaveLength(3);
  });

  it("masks personal values in its examples, and shows them only when asked", () => {
    const w = writes(1, (i) => customer(i, { Email: "old.person@fabrikam.example", FirstName: "Ann" }), (i) => customer(i, { Email: "new.person@fabrikam.example", FirstName: "Bo" }));
    expect(JSON.stringify(previewWrites(w))).not.toMatch(/person@|Ann|"Bo"/);
    expect(previewWrites(w).examples).toContainEqual({ target: "t0", field: "Email", before: "o***@***", after: "n***@***" });
    expect(previewWrites(w, { showPersonal: true }).examples).toContainEqual({ target: "t0", field: "Email", before: "old.person@fabrikam.example", after: "new.person@fabrikam.example" });
  });
});

describe("who a storage token names", () => {
  const jwt = (claims: Record<string, unknown>) => `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;

  it("a person by upn, then unique_name; an app by appid and oid", () => {
    expect(actorFromClaims(jwtClaims(jwt({ upn: "a@contoso.example", unique_name: "other" }))!)).toEqual({ name: "a@contoso.example", verified: true });
    expect(actorFromClaims(jwtClaims(jwt({ unique_name: "b@contoso.example" }))!)).toEqual({ name: "b@contoso.example", verified: true });
    expect(actorFromClaims(jwtClaims(jwt({ appid: "app-1", oid: "obj-1" }))!)).toEqual({ name: "app app-1 (object obj-1)", verified: true });
    expect(actorFromClaims({})).toBeUndefined();
  });

  it("is no JWT: opaque tokens and broken payloads name no one", () => {
    expect(jwtClaims("at-1-opaque")).toBeUndefined();
    expect(jwtClaims("a.not-json.c")).toBeUndefined();
  });
});

describe("change-control settings", () => {
  it("default to no reason required and warn", () => {
    expect(parseChangeControl({})).toEqual({ requireReason: false, outOfBand: "warn" });
    expect(parseChangeControl({ BILLING_SYNC_REQUIRE_REASON: "TRUE", BILLING_SYNC_OUT_OF_BAND: "block" })).toEqual({ requireReason: true, outOfBand: "block" });
  });

  it("refuse other values, naming the setting", () => {
    expect(() => parseChangeControl({ BILLING_SYNC_REQUIRE_REASON: "yes" })).toThrow(/BILLING_SYNC_REQUIRE_REASON must be true or false/);
    expect(() => parseChangeControl({ BILLING_SYNC_OUT_OF_BAND: "stop" })).toThrow(/BILLING_SYNC_OUT_OF_BAND must be warn or block/);
  });
});
