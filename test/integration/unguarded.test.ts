import { getPath, isLosslessNumber, type JsonObject, LosslessNumber, parseJsonText } from "../../shared/core/json";
import { planRestore } from "../../shared/engine/undo";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { fixtureText } from "../support/fixtures";
import { historyRowOf, startHarness, type Harness } from "../support/harness";

/**
 * A profile without an ETag (as the public record's legal, support and MPN profile samples
 * are) is still kept in its desired state: the PUT goes out unconditionally and the run
 * result, the history row and the log say so. Simulator (no ETags) and Azurite, real HTTP.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.setDesired("unguarded", { PurchaseOrderNumber: "PO-UNGUARDED" });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.resetSimulator();
  h.sim.configure({ etags: false });
  h.output.length = 0;
});

describe("a profile without an ETag", () => {
  it("is corrected with a PUT that carries none; result, history row and log say it was unguarded", async () => {
    expect(getPath(h.sim.getProfile(), ["attributes", "etag"])).toBeUndefined();
    const result = await h.engine().syncTarget({ target: "unguarded", trigger: "cli" });
    expect(result).toMatchObject({ outcome: "corrected", guarded: false, error: null, changes: [{ field: "PurchaseOrderNumber", to: "PO-UNGUARDED" }] });
    expect(result.warnings).toEqual([expect.stringMatching(/has no ETag \(Attributes\.Etag\): the update went out unconditionally.*last writer wins/)]);

    const put = JSON.parse(h.sim.requests.find((r) => r.method === "PUT")!.body) as JsonObject;
    expect(put.attributes).toEqual({ objectType: "BillingProfile" });
    expect(h.sim.getProfile().purchaseOrderNumber).toBe("PO-UNGUARDED");

    const row = await historyRowOf(h, result);
    expect(row).toMatchObject({ Outcome: "corrected", PutMade: true, Guarded: false });
    expect(row.EtagBefore).toBeUndefined();
    expect(JSON.parse(String(row.Warnings))).toEqual(result.warnings);
    const logged = h.output.join("");
    expect(logged).toMatch(/warn Run .* of unguarded: The profile Partner Center returned has no ETag.*"guarded":false/);
  });

  it("in sync: still one GET, and the result says a correction would be unguarded", async () => {
    h.sim.write({ purchaseOrderNumber: "PO-UNGUARDED" });
    h.sim.resetRequests();
    const result = await h.engine().syncTarget({ target: "unguarded", trigger: "timer" });
    expect(result).toMatchObject({ outcome: "in-sync", guarded: false, warnings: [expect.stringMatching(/an update would go out unconditionally/)] });
    expect(h.sim.count()).toBe(1);
  });

  it("the documented GET response without its etag is kept too, and the second sync makes no PUT", async () => {
    const documented = fixtureText("docs-get-response.placeholders-quoted.json").replace(/"etag":"<etag>",\s*/, "");
    h.sim.setProfile(parseJsonText(documented, { maxDepth: 64 }) as JsonObject);
    const engine = h.engine();
    expect(await engine.syncTarget({ target: "unguarded", trigger: "cli" })).toMatchObject({ outcome: "corrected", guarded: false });
    expect(await engine.syncTarget({ target: "unguarded", trigger: "cli" })).toMatchObject({ outcome: "in-sync", guarded: false });
    expect(h.sim.count("PUT")).toBe(1);
    expect(h.sim.getProfile()).toMatchObject({ companyName: "TEST_TEST_BugBash1", taxId: "12-345678", purchaseOrderNumber: "PO-UNGUARDED" });
  });

  it("a body that does not say it is a billing profile (the legal business profile sample, or {}) is refused: a PUT replaces the whole profile", async () => {
    for (const body of [fixtureText("legal-profile.sample.json").replace(/^\uFEFF/, ""), "{}", '{"attributes":{}}']) {
      h.sim.resetRequests();
      h.sim.inject({ method: "GET", fault: { kind: "malformed", body } });
      const result = await h.engine().syncTarget({ target: "unguarded", trigger: "cli" });
      expect(result).toMatchObject({ outcome: "failed", error: { code: "ResponseParseError", message: expect.stringMatching(/does not say it is a billing profile/) } });
      expect(h.sim.count("PUT")).toBe(0);
    }
  });

  it("a body with an ETag that holds nothing of a profile, or says it is another resource, is refused too: the ETag would let its PUT clear every field we do not own", async () => {
    for (const body of ['{"attributes":{"etag":"1"}}', '{"purchaseOrderNumber":"1","attributes":{"etag":"1","objectType":"LegalBusinessProfile"}}']) {
      h.sim.resetRequests();
      h.sim.inject({ method: "GET", fault: { kind: "malformed", body } });
      const result = await h.engine().syncTarget({ target: "unguarded", trigger: "cli" });
      expect(result).toMatchObject({ outcome: "failed", error: { code: "ResponseParseError", message: expect.stringMatching(/has an ETag but no field of a billing profile|says it is not a billing profile/) } });
      expect(h.sim.count("PUT")).toBe(0);
    }
  });

  it("last writer wins: a change someone makes between our GET and PUT is overwritten, as the warning says", async () => {
    h.sim.inject({ method: "PUT", fault: { kind: "concurrentWrite", set: { "primaryContact.lastName": "Other-Writer" } } });
    const result = await h.engine().syncTarget({ target: "unguarded", trigger: "cli" });
    expect(result).toMatchObject({ outcome: "corrected", guarded: false });
    expect(h.sim.count("PUT")).toBe(1);
    expect(getPath(h.sim.getProfile(), ["primaryContact", "lastName"])).toBe("Example");
  });

  it("numbers survive the unguarded round trip and the history's copy, so restore reads them as written", async () => {
    h.sim.setProfile({ ...defaultLiveProfile(), accountNumber: new LosslessNumber("4242348048554929329"), rate: new LosslessNumber("1.10") });
    const result = await h.engine().syncTarget({ target: "unguarded", trigger: "cli" });
    const put = h.sim.requests.find((r) => r.method === "PUT")!.body;
    expect(put).toContain('"accountNumber":4242348048554929329');
    expect(put).toContain('"rate":1.10');
    const stored = (await h.engine().history.get("unguarded", result.runId))!;
    const kept = stored.profileBefore!.accountNumber;
    expect(isLosslessNumber(kept) && kept.toString()).toBe("4242348048554929329");
    expect((await planRestore(h.engine(), result.runId, "unguarded")).desiredChanges).toEqual([{ field: "PurchaseOrderNumber", from: "PO-UNGUARDED", to: "9888" }]);
  });
});

describe("a profile with an ETag", () => {
  it("changes nothing: the PUT carries it, and result and history have no guarded flag and no warning", async () => {
    h.sim.configure({ etags: true });
    h.sim.setProfile(defaultLiveProfile());
    const result = await h.engine().syncTarget({ target: "unguarded", trigger: "cli" });
    expect(result.outcome).toBe("corrected");
    expect("guarded" in result).toBe(false);
    expect("warnings" in result).toBe(false);
    const put = JSON.parse(h.sim.requests.find((r) => r.method === "PUT")!.body) as JsonObject;
    expect(getPath(put, ["attributes", "etag"])).toBe(getPath(defaultLiveProfile(), ["attributes", "etag"]));
    const row = await historyRowOf(h, result);
    expect([row.Guarded, row.Warnings]).toEqual([undefined, undefined]);
    expect(h.output.join("")).not.toMatch(/no ETag/);
  });
});
