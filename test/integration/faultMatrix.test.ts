import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../cli/main";
import { Engine } from "../../shared/engine/engine";
import type { FinishedRun } from "../../shared/engine";
import { streamLogger } from "../../shared/core/logger";
import type { RunResult } from "../../shared/model/runResult";
import { loadSettings } from "../../shared/config/settings";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { AZURITE_ACCOUNT, AZURITE_KEY } from "../../simulator/azurite";
import { fastRetry, historyRows, startHarness, type Harness } from "../support/harness";
import { startTcpProxy, type TcpProxy } from "../support/tcpProxy";
import { DESIRED, FAULT_MATRIX, renderFaultTable, type FaultCase } from "./faultMatrix";

/**
 * Every fault of the matrix (faultMatrix.ts), through the real CLI (`sync --target T
 * --json`), against the simulator over HTTP and Azurite behind a TCP relay that a case
 * takes down at the moment it names. Retry waits are recorded at full value and slept
 * for at most 20 ms; the client's per-request timeout is 400 ms, so a "timeout" case is quick and
 * an answer slowed by a loaded machine (CI runs test files side by side) is not one.
 */
let h: Harness;
let proxy: TcpProxy;
let env: Record<string, string>;
const printed: string[] = [];
/** What the telemetry hook (EngineOptions.onRunFinished) saw: the record that survives a storage outage. */
let finished: FinishedRun[] = [];
const engineOptions = (waits: number[]) => ({
  onRunFinished: (run: FinishedRun) => void finished.push(run),
  retry: fastRetry(waits),
  timeoutInMs: 400,
  storageRetry: { maxRetries: 1, retryDelayInMs: 10, maxRetryDelayInMs: 20 },
});

beforeAll(async () => {
  h = await startHarness();
  proxy = await startTcpProxy(Number(new URL(h.storage.tableEndpoint).port));
  env = {
    ...h.env,
    BILLING_SYNC_STORAGE: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=http://127.0.0.1:${proxy.port}/${AZURITE_ACCOUNT};`,
  };
});
afterAll(async () => {
  await proxy.close();
  await h.stop();
});

async function cli(argv: string[], waits: number[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env, engineOptions: engineOptions(waits) });
  printed.push(stdout, stderr);
  return { code, stdout, stderr };
}

function label(c: FaultCase): string {
  return `${c.fault} at ${c.at}, ${c.repeat}`;
}

let seq = 0;

describe("fault matrix", () => {
  it.each(FAULT_MATRIX.map((c) => [label(c), c] as const))("%s", async (_label, c) => {
    const target = `fm${++seq}`;
    await h.setDesired(target, DESIRED);
    h.sim.setProfile(defaultLiveProfile());
    h.sim.clearFaults();
    h.sim.resetRequests();
    const down = (at: "GET" | "PUT") => ({ method }: { method: string }) => (method === at ? proxy.down() : undefined);
    h.sim.configure({
      staleEtagAnswer: c.staleEtagAnswer ?? 412,
      beforeAnswer: c.storage === "between GET and PUT" ? down("GET") : c.storage === "at the history write" ? down("PUT") : undefined,
    });
    for (const rule of c.rules) h.sim.inject(rule);
    if (c.storage === "before the run") await proxy.down();
    const waits: number[] = [];
    finished = [];

    const { code, stdout, stderr } = await cli(["sync", "--target", target, "--json"], waits);
    await proxy.up();
    h.sim.configure({ beforeAnswer: undefined });
    const e = c.expected;

    expect(code).toBe(e.exitCode);
    expect([h.sim.count("GET"), h.sim.count("PUT")]).toEqual([e.gets, e.puts]);
    expect(h.sim.getProfile().purchaseOrderNumber === DESIRED.PurchaseOrderNumber).toBe(e.applied);
    // Retries keep the request id: one MS-RequestId per logical GET or PUT.
    const ids = (m: string) => new Set(h.sim.requests.filter((r) => r.method === m).map((r) => r.headers["ms-requestid"])).size;
    expect([ids("GET"), ids("PUT")]).toEqual(e.requestIds);
    if (e.waits) expect(waits).toEqual(e.waits);
    const rows = (await historyRows(h, target)).filter((r) => r.Outcome !== undefined);

    if (e.outcome === undefined) {
      // No run started: the CLI's first storage read failed, before any Partner Center call.
      expect(stdout).toBe("");
      expect(stderr).toMatch(new RegExp(`${e.errorCode}: Could not .* in table BillingProfile\\w+: (ECONNREFUSED|ECONNRESET)`));
      expect(rows).toHaveLength(0);
    } else {
      const result = JSON.parse(stdout) as RunResult;
      expect(result.outcome).toBe(e.outcome);
      expect(finished.map((f) => [f.result.runId, f.result.recorded, f.calls.length])).toEqual([[result.runId, e.record === "history", e.gets + e.puts]]);
      expect(result.error?.code).toBe(e.errorCode);
      if (e.record === "history") {
        expect(result.recorded).toBe(true);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ RunId: result.runId, Outcome: e.outcome, PutMade: e.putMade });
        expect(rows[0].ErrorCode).toBe(e.errorCode);
        if (e.putMade) expect(JSON.parse(String(rows[0].ProfileBefore))).toMatchObject({ purchaseOrderNumber: "9888" });
      } else {
        expect(result.recorded).toBe(false);
        if (e.pendingRow) {
          expect(rows).toHaveLength(1);
          expect(rows[0]).toMatchObject({ RunId: result.runId, Outcome: "in-progress", PutPending: true, PutMade: false });
          expect(JSON.parse(String(rows[0].ProfileBefore))).toMatchObject({ purchaseOrderNumber: "9888" });
        } else {
          expect(rows).toHaveLength(0);
        }
        const line = stderr.split("\n").find((l) => l.startsWith(`error Run ${result.runId} of ${target} could not be recorded in history`));
        expect(line).toBeDefined();
        expect(JSON.parse(line!.slice(line!.indexOf("{")))).toMatchObject({ runId: result.runId, target, outcome: e.outcome, correlationId: result.correlationId });
      }
    }

    // The next run, faults gone, finds out what happened and ends in the desired state
    // (or, where the lease could not be released, is told the target is still held).
    h.sim.clearFaults();
    const next = await cli(["sync", "--target", target, "--json"], []);
    expect((JSON.parse(next.stdout) as RunResult).outcome).toBe(e.next);
    if (e.next !== "in-progress") expect(h.sim.getProfile().purchaseOrderNumber).toBe(DESIRED.PurchaseOrderNumber);
  });

  it("storage down before the run, through the engine: failed with a StorageError, no Partner Center call, the run logged with its ids", async () => {
    await h.setDesired("fm-engine", DESIRED);
    h.sim.resetRequests();
    const lines: string[] = [];
    const engine = new Engine(loadSettings(env), { log: streamLogger((l) => lines.push(l)), ...engineOptions([]) });
    await proxy.down();
    let result: RunResult;
    try {
      result = await engine.syncTarget({ target: "fm-engine", trigger: "timer" });
    } finally {
      await proxy.up();
    }
    expect(result).toMatchObject({ outcome: "failed", recorded: false, requestIds: [], error: { code: "StorageError" } });
    expect(result.error?.message).toMatch(/Could not take the lease of "fm-engine" in table BillingProfileLeases: ECONNREFUSED/);
    expect(h.sim.count()).toBe(0);
    const line = lines.find((l) => l.startsWith(`error Run ${result.runId} of fm-engine could not be recorded`));
    expect(JSON.parse(line!.slice(line!.indexOf("{")))).toMatchObject({ runId: result.runId, outcome: "failed", correlationId: result.correlationId });
  });

  it("the fault table of docs/reliability.md is the one this matrix renders", () => {
    const doc = readFileSync(join(__dirname, "..", "..", "docs", "reliability.md"), "utf8").replace(/\r\n/g, "\n");
    expect(doc).toContain(renderFaultTable());
  });

  it("the token appears in nothing the CLI printed", () => {
    expect(printed.join("").length).toBeGreaterThan(10_000);
    expect(printed.join("\n")).not.toContain(h.token);
  });
});
