import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { QueueServiceClient } from "@azure/storage-queue";
import { deployFiles } from "../../bench/packageSize";
import { TARGET_QUEUE } from "../../shared/stores/targetQueue";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { historyRows, startHarness, type Harness } from "../support/harness";
import { IngestionCapture } from "../support/ingestion";

// What a zip deploy uploads (the files .funcignore keeps), copied to an empty folder with
// no node_modules, then loaded by a separate Node process as the Functions worker would.
// The host itself cannot run here: the child calls the exported handlers with plain
// objects shaped like the host's context and request.
const ROOT = join(__dirname, "..", "..");
let h: Harness;
let deployDir: string;

beforeAll(async () => {
  h = await startHarness({}, { queue: true });
  deployDir = mkdtempSync(join(tmpdir(), "billing-sync-deploy-"));
  for (const file of deployFiles(ROOT)) {
    mkdirSync(dirname(join(deployDir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(deployDir, file));
  }
});
afterAll(() => h.stop());

const CHILD = `
const logs = [];
const context = { log: (...a) => logs.push(a.join(" ")), warn: (...a) => logs.push(a.join(" ")), error: (...a) => logs.push(a.join(" ")) };
// Like the host's HttpRequest: the body as a stream (the handler reads it chunk by chunk) and as text.
const request = (body) => ({ headers: new Headers({ "content-type": "application/json" }), body: new Response(body).body, text: async () => body });
(async () => {
  const main = require(process.cwd() + "/" + require("./package.json").main);
  const sync = await main.syncHttp(request('{"target":"bundled"}'), context);
  const status = await main.statusHttp(request(""), context);
  await main.billingProfileSyncTimer({}, context);
  process.stdout.write(JSON.stringify({ sync, status, logs }));
})().catch((e) => { process.stderr.write(String(e && e.stack)); process.exit(1); });
`;

describe("the deployed bundle", () => {
  it("holds only host.json, package.json and the bundles", () => {
    expect(deployFiles(ROOT).sort()).toEqual([
      "dist/engine.js",
      "dist/main.js",
      "dist/vendor/cron-parser.js",
      "dist/vendor/identity.js",
      "dist/vendor/keyvault-secrets.js",
      "dist/vendor/storage-queue.js",
      "dist/vendor/telemetry.js",
      "host.json",
      "package.json",
    ]);
  });

  it("requires nothing but Node built-ins, its own files and the host-provided @azure/functions-core", () => {
    const allowed = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`), "@azure/functions-core"]);
    for (const file of deployFiles(ROOT).filter((f) => f.endsWith(".js"))) {
      const specifiers = [...readFileSync(join(ROOT, file), "utf8").matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]);
      const foreign = specifiers.filter((s) => !allowed.has(s) && !s.startsWith("./"));
      expect({ file, foreign }).toEqual({ file, foreign: [] });
    }
  });

  it("loads its lazy parts with require, never import(): an ESM import of a CommonJS bundle loses its named exports", () => {
    for (const file of deployFiles(ROOT).filter((f) => f.endsWith(".js"))) {
      const dynamicImports = [...readFileSync(join(ROOT, file), "utf8").matchAll(/\bimport\(\s*["'`]([^"'`]+)/g)].map((m) => m[1]);
      expect({ file, dynamicImports }).toEqual({ file, dynamicImports: [] });
    }
  });

  it("every vendor bundle exposes its package's named exports to require", () => {
    const vendors = deployFiles(ROOT).filter((f) => f.startsWith("dist/vendor/"));
    const expected: Record<string, string> = {
      "dist/vendor/identity.js": "DefaultAzureCredential",
      "dist/vendor/keyvault-secrets.js": "SecretClient",
      "dist/vendor/storage-queue.js": "QueueServiceClient",
      "dist/vendor/cron-parser.js": "CronExpressionParser",
    };
    for (const file of vendors) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const loaded = require(join(deployDir, file)) as Record<string, unknown>;
      if (expected[file]) expect({ file, type: typeof loaded[expected[file]] }).toEqual({ file, type: "function" });
      else expect(Object.keys(loaded).length).toBeGreaterThan(0);
    }
  });

  it("runs a real sync, status and the timer's fan-out from an empty folder without node_modules", async () => {
    h.sim.setProfile(defaultLiveProfile());
    await h.setDesired("bundled", { PurchaseOrderNumber: "PO-BUNDLE" });
    const env = { ...process.env, ...h.env, AzureWebJobsStorage: h.storage.connectionString, BILLING_SYNC_SCHEDULE: "0 0 * * * *", NODE_PATH: "" };
    // Async on purpose: the simulator and Azurite answer from this process's event loop.
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["-e", CHILD], { cwd: deployDir, env }, (err, stdout, stderr) => (err ? reject(new Error(stderr || String(err))) : resolve(stdout))),
    );
    const { sync, status, logs } = JSON.parse(out) as { sync: { status: number; jsonBody: { outcome: string } }; status: { jsonBody: { targets: { target: string; nextScheduledRun?: string }[] } }; logs: string[] };
    expect(sync).toMatchObject({ status: 200, jsonBody: { outcome: "corrected" } });
    expect(h.sim.getProfile().purchaseOrderNumber).toBe("PO-BUNDLE");
    expect((await historyRows(h, "bundled"))[0]).toMatchObject({ Trigger: "http", Outcome: "corrected" });
    // status loads the cron-parser vendor bundle, the timer the storage-queue one
    expect(status.jsonBody.targets.find((t) => t.target === "bundled")?.nextScheduledRun).toMatch(/^\d{4}-/);
    const queued = await QueueServiceClient.fromConnectionString(h.storage.connectionString).getQueueClient(TARGET_QUEUE).peekMessages({ numberOfMessages: 32 });
    expect(queued.peekedMessageItems.length).toBeGreaterThan(0);
    expect(logs.join("\n")).not.toContain(h.token);
  });

  it("sends a run's telemetry through the lazily loaded vendor/telemetry.js, without node_modules", async () => {
    const capture = new IngestionCapture();
    await capture.start();
    try {
      h.sim.setProfile(defaultLiveProfile());
      await h.setDesired("bundled-tel", { PurchaseOrderNumber: "PO-BUNDLE-TEL" });
      const child = `
        const logs = [];
        const log = (level) => (...a) => logs.push(level + " " + a.join(" "));
        const context = { log: log("information"), debug: log("debug"), warn: log("warning"), error: log("error") };
        const request = (body) => ({ headers: new Headers({ "content-type": "application/json" }), body: new Response(body).body, text: async () => body });
        (async () => {
          const main = require(process.cwd() + "/" + require("./package.json").main);
          const sync = await main.syncHttp(request('{"target":"bundled-tel"}'), context);
          await main.afterInvocation(context);
          process.stdout.write(JSON.stringify({ sync, logs }));
        })().catch((e) => { process.stderr.write(String(e && e.stack)); process.exit(1); });`;
      const env = {
        ...process.env,
        ...h.env,
        BILLING_SYNC_SCHEDULE: "0 0 * * * *",
        NODE_PATH: "",
        APPLICATIONINSIGHTS_CONNECTION_STRING: capture.connectionString(),
        NODE_EXTRA_CA_CERTS: capture.caPath,
        APPLICATION_INSIGHTS_NO_STATSBEAT: "true",
      };
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ["-e", child], { cwd: deployDir, env }, (err, stdout, stderr) => (err ? reject(new Error(stderr || String(err))) : resolve(stdout))),
      );
      const { sync, logs } = JSON.parse(out) as { sync: { jsonBody: { runId: string; outcome: string } }; logs: string[] };
      expect(sync.jsonBody.outcome).toBe("corrected");
      const trace = capture.envelopes().find((e) => e.data.baseData.properties?.runId === sync.jsonBody.runId && e.data.baseData.message === "BillingProfileSyncRun");
      expect(trace?.data.baseData.properties).toMatchObject({ target: "bundled-tel", trigger: "http", outcome: "corrected" });
      expect(logs.filter((l) => / of bundled-tel: corrected/.test(l)).every((l) => l.startsWith("debug "))).toBe(true);
    } finally {
      await capture.stop();
    }
  });
});
