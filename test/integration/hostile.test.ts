import { HttpRequest, InvocationContext } from "@azure/functions";
import fc from "fast-check";
import { syncHttp } from "../../functions/syncHttp";
import { toJsonText } from "../../shared/core/json";
import { TABLES } from "../../shared/stores/tables";
import { planRestore } from "../../shared/engine/undo";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { historyRows, startHarness, type Harness } from "../support/harness";

/**
 * Hostile input at the edges: the HTTP trigger (called as the Functions host calls it) and
 * a live profile far larger than a real one. A refusal is a 4xx naming the problem, with
 * nothing written to any table and no call to Partner Center.
 */
let h: Harness;
const logged: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  h.useProcessEnv();
  await h.setDesired("default", { PurchaseOrderNumber: "PO-HOSTILE" });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.resetSimulator();
});

function context(): InvocationContext {
  return new InvocationContext({ functionName: "sync", invocationId: "inv-hostile", logHandler: (level, ...args) => void logged.push(`${level} ${args.join(" ")}`) });
}

async function post(body: string | undefined, headers: Record<string, string>): Promise<{ status: number; message: string; code: string }> {
  const request = new HttpRequest({ method: "POST", url: "http://localhost:7071/api/sync", headers, body: body === undefined ? undefined : { string: body } });
  const response = await syncHttp(request, context());
  const error = (response.jsonBody as { error?: { code: string; message: string } } | undefined)?.error;
  return { status: response.status ?? 200, message: error?.message ?? "", code: error?.code ?? "" };
}

/** Every row of every table, counted: a refused request must not change any of them. */
async function tableCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of Object.values(TABLES)) counts[table] = (await h.rawRows(table)).length;
  return counts;
}

const json = { "content-type": "application/json" };
/** C0 and C1 controls, DEL, and the JavaScript line separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const HOSTILE_TARGETS: [string, unknown][] = [
  ["a quote closing an OData string", "x' or PartitionKey ne '"],
  ["a double quote", 'de"fault'],
  ["a slash", "a/b"],
  ["a backslash", "a\\b"],
  ["a number sign", "a#b"],
  ["a question mark", "a?b"],
  ["a percent escape", "a%2Fb"],
  ["a NUL", "a\u0000b"],
  ["a newline (log injection)", "default\nerror Run forged"],
  ["a DEL", "a\u007fb"],
  ["a C1 control (NEL)", "a\u0085b"],
  ["a line separator", "a\u2028b"],
  ["a space", "de fault"],
  ["a dot-dot path", ".."],
  ["a leading dash", "-default"],
  ["the empty string", ""],
  ["a Unicode look-alike", "defаult"],
  ["2 KB long", "a".repeat(2048)],
  ["64 characters", "a".repeat(64)],
  ["a number", 42],
  ["null", null],
  ["an array", ["default"]],
  ["an object", { $ne: "" }],
];

describe("POST /api/sync refuses hostile input: 4xx with a clear message, nothing written, nothing called", () => {
  it.each([
    ["a body over 4 KB", 413, "BodyTooLarge", JSON.stringify({ target: "default", pad: "x".repeat(5000) }), json, /larger than 4096 bytes/],
    ["a Content-Length over 4 KB", 413, "BodyTooLarge", '{"target":"default"}', { ...json, "content-length": String(10 * 1024 * 1024) }, /larger than 4096 bytes/],
    ["text/plain", 415, "UnsupportedMediaType", '{"target":"default"}', { "content-type": "text/plain" }, /Send the body as application\/json \(got "text\/plain"\)/],
    ["form encoding", 415, "UnsupportedMediaType", "target=default", { "content-type": "application/x-www-form-urlencoded" }, /application\/json/],
    ["application/jsonp", 415, "UnsupportedMediaType", '{"target":"default"}', { "content-type": "application/jsonp" }, /application\/json/],
    ["invalid JSON", 400, "InvalidJson", '{"target": "default"', json, /not valid JSON/],
    ["JSON with a trailing comma", 400, "InvalidJson", '{"target":"default",}', json, /not valid JSON/],
    ["a JSON array", 400, "InvalidBody", '["default"]', json, /must be a JSON object/],
    ["JSON null", 400, "InvalidBody", "null", json, /must be a JSON object/],
    ["an unknown field", 400, "UnknownField", '{"target":"default","force":true}', json, /Unknown field "force"; allowed: target, dryRun/],
    ["__proto__", 400, "UnknownField", '{"__proto__":{"dryRun":false},"target":"default"}', json, /Unknown field "__proto__"/],
    ["constructor", 400, "UnknownField", '{"constructor":{"prototype":{}}}', json, /Unknown field "constructor"/],
    ["dryRun as a string", 400, "InvalidField", '{"target":"default","dryRun":"false"}', json, /dryRun must be true or false/],
    ["a duplicate key whose last value is hostile", 400, "InvalidTargetName", '{"target":"default","target":"x\' or \'1\' eq \'1"}', json, /is not allowed/],
  ])("%s: %i %s", async (_label, status, code, body, headers, message) => {
    const before = await tableCounts();
    const res = await post(body, headers as Record<string, string>);
    expect(res).toMatchObject({ status, code });
    expect(res.message).toMatch(message);
    expect(h.sim.count()).toBe(0);
    expect(await tableCounts()).toEqual(before);
  });

  it("a body streamed without a Content-Length is refused once 4 KB have been read, not after the whole body", async () => {
    // 10 MB on offer, 1 KB a chunk: the handler must stop pulling just past the limit and cancel the rest.
    let pulled = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled++ >= 10 * 1024) return controller.close();
        controller.enqueue(new Uint8Array(1024).fill(0x20));
      },
      cancel() {
        cancelled = true;
      },
    });
    const request = { method: "POST", headers: new Headers(json), body } as unknown as HttpRequest;
    const before = await tableCounts();
    const response = await syncHttp(request, context());
    expect(response).toMatchObject({ status: 413, jsonBody: { error: { code: "BodyTooLarge" } } });
    expect([pulled <= 6, cancelled]).toEqual([true, true]);
    expect(h.sim.count()).toBe(0);
    expect(await tableCounts()).toEqual(before);
  });

  it.each(HOSTILE_TARGETS)("target %s: 400 InvalidTargetName", async (_label, target) => {
    const before = await tableCounts();
    const res = await post(JSON.stringify({ target, dryRun: false }), json);
    expect(res).toMatchObject({ status: 400, code: "InvalidTargetName" });
    expect(res.message).toMatch(/is not allowed: use 1-63 letters, digits, '\.', '_' or '-', starting with a letter or digit\./);
    // The message quotes at most 40 characters, escaped: no raw control character reaches a log or a client.
    expect(res.message).not.toMatch(CONTROL);
    expect(res.message.length).toBeLessThan(400);
    expect(h.sim.count()).toBe(0);
    expect(await tableCounts()).toEqual(before);
  });

  it("random target strings (fuzz): anything outside the alphabet is refused with a 400, and nothing is written or called", async () => {
    const before = await tableCounts();
    const hostile = fc.oneof(
      fc.string({ unit: "binary", minLength: 1, maxLength: 80 }),
      fc.array(fc.constantFrom("'", '"', "/", "\\", "#", "?", "\u0000", "\n", "%", " ", "..", " or ", " eq ", "PartitionKey", "ä", "a", "1", "-", "_", "."), { minLength: 1, maxLength: 30 }).map((p) => p.join("")),
    ).filter((t) => !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(t));
    await fc.assert(
      fc.asyncProperty(hostile, async (target) => {
        const res = await post(JSON.stringify({ target, dryRun: true }), json);
        expect(res).toMatchObject({ status: 400, code: "InvalidTargetName" });
        expect(res.message).not.toMatch(CONTROL);
      }),
      { numRuns: 200 },
    );
    expect(h.sim.count()).toBe(0);
    expect(await tableCounts()).toEqual(before);
  });

  it("a valid name with no desired row: 404, and still nothing written", async () => {
    const before = await tableCounts();
    expect(await post('{"target":"nobody-here"}', json)).toMatchObject({ status: 404, code: "TargetNotFound" });
    expect(h.sim.count()).toBe(0);
    expect(await tableCounts()).toEqual(before);
  });
});

describe("a hostile live profile", () => {
  it("with a 100 KB unknown field: corrected, recorded with the whole profile before, and restorable", async () => {
    // ASCII on purpose: Azurite 3.35 decodes a request body chunk by chunk (segments.join("") in its
    // serializer), so a multi-byte character across a 64 KB chunk boundary arrives as two U+FFFD.
    // Real Table Storage does not; the PUT body the simulator received is checked for it below.
    const big = { ...defaultLiveProfile(), notes: "n".repeat(100 * 1024), extra: { deep: "e".repeat(40_000), name: "Zoë Ünïcødé 東京" } };
    h.sim.setProfile(big);
    await h.setDesired("big", { PurchaseOrderNumber: "PO-BIG" });
    const result = await h.engine().syncTarget({ target: "big", trigger: "cli" });
    expect(result).toMatchObject({ outcome: "corrected", recorded: true });
    const [row] = (await historyRows(h, "big")).filter((r) => r.RunId === result.runId);
    expect(row).toMatchObject({ Outcome: "corrected", PutMade: true });
    const stored = (await h.engine().history.get("big", result.runId))!;
    const served = h.sim.servedFor(String(stored.etagBefore));
    // Compared as text: a diff of 140,000 characters is no help to read.
    const [a, b] = [toJsonText(stored.profileBefore!), toJsonText(served!)];
    const put = h.sim.requests.find((r) => r.method === "PUT")!.body;
    expect([put.includes("\ufffd"), a.includes("\ufffd")]).toEqual([false, false]);
    expect([a.length, a === b]).toEqual([b.length, true]);
    const restore = await planRestore(h.engine(), result.runId, "big");
    expect(restore.desiredChanges).toEqual([{ field: "PurchaseOrderNumber", from: "PO-BIG", to: "9888" }]);
  });

  it("too large for a history row (900 KB): still recorded, without the profile, and restore says why", async () => {
    h.sim.setProfile({ ...defaultLiveProfile(), notes: "n".repeat(900 * 1024) });
    await h.setDesired("huge", { PurchaseOrderNumber: "PO-HUGE" });
    const result = await h.engine().syncTarget({ target: "huge", trigger: "cli" });
    expect(result).toMatchObject({ outcome: "corrected", recorded: true });
    const stored = (await h.engine().history.get("huge", result.runId))!;
    expect(stored).toMatchObject({ putMade: true, profileBefore: undefined });
    expect(stored.profileBeforeOmitted).toMatch(/too large/);
    await expect(planRestore(h.engine(), result.runId, "huge")).rejects.toThrow(/the profile before it was not kept: .*too large/);
  });
});
