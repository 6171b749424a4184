import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { QueueServiceClient } from "@azure/storage-queue";
import { deployPackage } from "../../bench/packageSize";
import { TARGET_QUEUE } from "../../shared/stores/targetQueue";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { historyRows, startHarness, type Harness } from "../support/harness";
import { IngestionCapture } from "../support/ingestion";

// The package exactly as azd zips it (bench/azdPackage.ts restates azd's rules), from the
// build npm test has just run, copied to an empty folder outside the project: no
// node_modules beside it or above it. A separate Node process loads it the way the
// Functions worker does (test/support/functionsWorker.js: the host and its worker cannot
// run here) and runs the functions against the Partner Center simulator and Azurite.
const ROOT = join(__dirname, "..", "..");
const WORKER = join(__dirname, "..", "support", "functionsWorker.js");
const { dir: packageDir, files } = deployPackage(ROOT);
let h: Harness;
let deployDir: string;

interface Invocation {
  function: string;
  status?: number;
  body?: unknown;
  error?: string;
  logs: { level: string; category: string; message: string }[];
}
interface WorkerReport {
  node: string;
  programmingModel?: { name: string; version: string };
  functions: { name: string; bindings: Record<string, Record<string, unknown>> }[];
  hooks: Record<string, number>;
  results: Invocation[];
}

/** Runs the worker stand-in in the package folder; async, as the simulator and Azurite answer from this process. */
function runWorker(plan: unknown[], env: Record<string, string> = {}): Promise<WorkerReport> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [WORKER],
      { cwd: deployDir, env: { ...process.env, ...h.env, BILLING_SYNC_SCHEDULE: "0 0 * * * *", NODE_PATH: "", ...env, WORKER_PLAN: JSON.stringify(plan) } },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(stderr || String(err)));
        const line = stdout.split("\n").find((l) => l.startsWith("@@WORKER "));
        if (!line) return reject(new Error(`no report from the worker; stdout: ${stdout}; stderr: ${stderr}`));
        resolve(JSON.parse(line.slice("@@WORKER ".length)) as WorkerReport);
      },
    ),
  );
}

const post = (path: string, body: string) => ({ http: { method: "POST", path, body, headers: { "content-type": "application/json" } } });

beforeAll(async () => {
  h = await startHarness({}, { queue: true });
  deployDir = mkdtempSync(join(tmpdir(), "billing-sync-package-"));
  for (const file of files) {
    mkdirSync(dirname(join(deployDir, file)), { recursive: true });
    copyFileSync(join(packageDir, file), join(deployDir, file));
  }
});
afterAll(() => h.stop());

describe("the deployment package", () => {
  it("holds only host.json, package.json and the bundles, and no node_modules is reachable from its copy", () => {
    expect([...files].sort()).toEqual([
      "engine.js",
      "host.json",
      "main.js",
      "package.json",
      "vendor/cron-parser.js",
      "vendor/identity.js",
      "vendor/keyvault-secrets.js",
      "vendor/storage-queue.js",
      "vendor/telemetry.js",
    ]);
    for (let dir = deployDir; dir !== dirname(dir); dir = dirname(dir)) expect({ dir, nodeModules: existsSync(join(dir, "node_modules")) }).toEqual({ dir, nodeModules: false });
  });

  it("requires nothing but Node built-ins, its own files and the host-provided @azure/functions-core", () => {
    const allowed = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`), "@azure/functions-core"]);
    for (const file of files.filter((f) => f.endsWith(".js"))) {
      const specifiers = [...readFileSync(join(deployDir, file), "utf8").matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]);
      const foreign = specifiers.filter((s) => !allowed.has(s) && !s.startsWith("./"));
      expect({ file, foreign }).toEqual({ file, foreign: [] });
    }
  });

  it("loads its lazy parts with require, never import(): an ESM import of a CommonJS bundle loses its named exports", () => {
    for (const file of files.filter((f) => f.endsWith(".js"))) {
      const dynamicImports = [...readFileSync(join(deployDir, file), "utf8").matchAll(/\bimport\(\s*["'`]([^"'`]+)/g)].map((m) => m[1]);
      expect({ file, dynamicImports }).toEqual({ file, dynamicImports: [] });
    }
  });

  it("every vendor bundle exposes its package's named exports to require", () => {
    const expected: Record<string, string> = {
      "vendor/identity.js": "DefaultAzureCredential",
      "vendor/keyvault-secrets.js": "SecretClient",
      "vendor/storage-queue.js": "QueueServiceClient",
      "vendor/cron-parser.js": "CronExpressionParser",
    };
    for (const file of files.filter((f) => f.startsWith("vendor/"))) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const loaded = require(join(deployDir, file)) as Record<string, unknown>;
      if (expected[file]) expect({ file, type: typeof loaded[expected[file]] }).toEqual({ file, type: "function" });
      else expect(Object.keys(loaded).length).toBeGreaterThan(0);
    }
  });

  it("indexes its five functions through @azure/functions, as the worker does, and registers the postInvocation hook", async () => {
    const report = await runWorker([]);
    // .ci/run repeats this file under Node 22 (what Azure runs) and says so here.
    if (process.env.BILLING_SYNC_EXPECT_NODE_MAJOR) expect(report.node.split(".")[0]).toBe(`v${process.env.BILLING_SYNC_EXPECT_NODE_MAJOR}`);
    expect(report.programmingModel?.name).toBe("@azure/functions");
    const byName = Object.fromEntries(report.functions.map((f) => [f.name, Object.values(f.bindings)]));
    expect(Object.keys(byName).sort()).toEqual(["billingProfilePurgeTimer", "billingProfileSyncQueue", "billingProfileSyncTimer", "status", "sync"]);
    expect(byName.billingProfilePurgeTimer).toEqual([expect.objectContaining({ type: "timerTrigger", direction: "in", schedule: "0 30 2 * * *" })]);
    expect(byName.sync).toEqual(expect.arrayContaining([expect.objectContaining({ type: "httpTrigger", direction: "in", methods: ["POST"], authLevel: "function", route: "sync" })]));
    expect(byName.status).toEqual(expect.arrayContaining([expect.objectContaining({ type: "httpTrigger", methods: ["GET"], authLevel: "function", route: "status" })]));
    expect(byName.billingProfileSyncTimer).toEqual([expect.objectContaining({ type: "timerTrigger", direction: "in", schedule: "%BILLING_SYNC_SCHEDULE%" })]);
    expect(byName.billingProfileSyncQueue).toEqual([expect.objectContaining({ type: "queueTrigger", direction: "in", queueName: "billing-sync-targets", connection: "AzureWebJobsStorage" })]);
    expect(report.hooks.postInvocation).toBe(1);
  });

  it("runs a sync, status, the timer's fan-out and a queued target through the worker, from an empty folder without node_modules", async () => {
    h.sim.setProfile(defaultLiveProfile());
    await h.setDesired("bundled", { PurchaseOrderNumber: "PO-BUNDLE" });
    const report = await runWorker(
      [
        { function: "sync", ...post("/api/sync", '{"target":"bundled"}') },
        { function: "status", http: { method: "GET", path: "/api/status" } },
        { function: "billingProfileSyncTimer", timer: {} },
        { function: "billingProfileSyncQueue", queue: JSON.stringify({ target: "bundled", trigger: "timer" }) },
      ],
      { AzureWebJobsStorage: h.storage.connectionString },
    );
    const [sync, status, timer, queued] = report.results;
    expect(sync).toMatchObject({ function: "sync", status: 200, body: { target: "bundled", trigger: "http", outcome: "corrected" } });
    expect(h.sim.getProfile().purchaseOrderNumber).toBe("PO-BUNDLE");
    // status loads the cron-parser vendor bundle, the timer the storage-queue one
    expect(status.status).toBe(200);
    expect((status.body as { targets: { target: string; nextScheduledRun?: string }[] }).targets.find((t) => t.target === "bundled")?.nextScheduledRun).toMatch(/^\d{4}-/);
    expect(timer.error).toBeUndefined();
    const peeked = await QueueServiceClient.fromConnectionString(h.storage.connectionString).getQueueClient(TARGET_QUEUE).peekMessages({ numberOfMessages: 32 });
    expect(peeked.peekedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")).target)).toContain("bundled");
    expect(queued.error).toBeUndefined();
    const rows = await historyRows(h, "bundled");
    expect(rows.map((r) => r.Trigger).sort()).toEqual(["http", "timer"]);
    expect(rows.find((r) => r.Trigger === "timer")).toMatchObject({ Outcome: "in-sync" });
    expect(JSON.stringify(report)).not.toContain(h.token);
  });

  it("sends a run's telemetry through the lazily loaded vendor/telemetry.js, flushed by the postInvocation hook", async () => {
    const capture = new IngestionCapture();
    await capture.start();
    try {
      h.sim.setProfile(defaultLiveProfile());
      await h.setDesired("bundled-tel", { PurchaseOrderNumber: "PO-BUNDLE-TEL" });
      const report = await runWorker([{ function: "sync", ...post("/api/sync", '{"target":"bundled-tel"}') }], {
        APPLICATIONINSIGHTS_CONNECTION_STRING: capture.connectionString(),
        NODE_EXTRA_CA_CERTS: capture.caPath,
        APPLICATION_INSIGHTS_NO_STATSBEAT: "true",
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED: "true",
      });
      const [sync] = report.results;
      const runId = (sync.body as { runId: string; outcome: string }).runId;
      expect(sync.body).toMatchObject({ outcome: "corrected" });
      const trace = capture.envelopes().find((e) => e.data.baseData.properties?.runId === runId && e.data.baseData.message === "BillingProfileSyncRun");
      expect(trace?.data.baseData.properties).toMatchObject({ target: "bundled-tel", trigger: "http", outcome: "corrected" });
      const runLines = sync.logs.filter((l) => / of bundled-tel: corrected/.test(l.message));
      expect(runLines.length).toBeGreaterThan(0);
      expect(runLines.every((l) => l.level === "debug" && l.category === "user")).toBe(true);
    } finally {
      await capture.stop();
    }
  });
});
