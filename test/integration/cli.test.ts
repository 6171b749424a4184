import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../cli/main";
import { fastRetry, historyRows, startHarness, type Harness } from "../support/harness";
import { packageVersion } from "../support/fixtures";

let h: Harness;
let dir: string;
const printed: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), "billing-sync-cli-"));
});
afterAll(() => h.stop());
beforeEach(() => {
  h.resetSimulator();
});

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: h.env,
    engineOptions: { retry: fastRetry(h.waits) },
  });
  printed.push(stdout, stderr);
  return { code, stdout, stderr };
}

function file(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
}

const desired = { PurchaseOrderNumber: "PO-7", PrimaryContact: { Email: "billing@contoso.example" } };

describe("billing-sync CLI", () => {
  it("desired set, then get, round-trips the document", async () => {
    const set = await cli("desired", "set", "--file", file("d.json", desired), "--target", "cli1");
    expect(set).toMatchObject({ code: 0 });
    expect(set.stdout).toMatch(/Desired state of cli1 written: 2 managed fields/);
    const get = await cli("desired", "get", "--target", "cli1");
    expect(JSON.parse(get.stdout)).toEqual({ Mode: "enforce", Suspended: false, ...desired });
  });

  it("desired set refuses an invalid file, names the field, and writes nothing", async () => {
    const bad = await cli("desired", "set", "--file", file("bad.json", { PrimaryContact: { Email: "nope" }, BillingDay: 3 }), "--target", "clibad");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/PrimaryContact_Email is not a valid e-mail address/);
    expect(bad.stderr).toMatch(/BillingDay cannot be set by partners/);
    expect((await h.rawRows("BillingProfileDesired")).some((r) => r.partitionKey === "clibad")).toBe(false);
    const notJson = await cli("desired", "set", "--file", file("bad2.json", "{ nope"), "--target", "clibad");
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/bad2\.json is not valid JSON \(line 1, column 3\)/);
  });

  it.each([
    // V8 quotes the text around an unexpected token; its message must not reach the output.
    ["an unexpected token", '{\n  "TaxId": "DE123456789",\n  "PrimaryContact": { "Email": quoted.person@contoso.example oops }\n}', 3, 32],
    ["a missing comma", '{"TaxId": "DE123456789" "PrimaryContact": {"Email": "quoted.person@contoso.example"}}', 1, 25],
    ["a cut-off file", '{"TaxId": "DE123456789", "PrimaryContact": {"Email": "quoted.person@contoso.example"', 1, 85],
  ])("desired set with a file that is not JSON (%s) names the line and column, never the content", async (_label, text, line, column) => {
    const result = await cli("desired", "set", "--file", file("personal.json", text), "--target", "clibad");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`personal.json is not valid JSON (line ${line}, column ${column}); fix it there and run again.`);
    for (const value of ["DE123456789", "quoted.person", "contoso.example", "oops"]) expect(result.stderr + result.stdout).not.toContain(value);
  });

  it("plan shows a field-by-field diff with masked personal values and exits 2", async () => {
    const plan = await cli("plan", "--target", "cli1");
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('~ PrimaryContact_Email: "a***@***" → "b***@***"');
    expect(plan.stdout).toContain('~ PurchaseOrderNumber: "9888" → "PO-7"');
    expect(plan.stdout).toContain("Plan: 2 fields to change.");
    expect(plan.stdout).not.toContain("billing@contoso.example");
    expect(h.sim.count("PUT")).toBe(0);
  });

  it("sync --json prints the run result of the contract and exits 0; plan is then clean", async () => {
    const sync = await cli("sync", "--target", "cli1", "--json");
    expect(sync.code).toBe(0);
    const result = JSON.parse(sync.stdout);
    expect(Object.keys(result)).toEqual(
      expect.arrayContaining(["runId", "target", "trigger", "dryRun", "outcome", "changes", "correlationId", "requestIds", "durationMs", "error"]),
    );
    expect(result).toMatchObject({ target: "cli1", trigger: "cli", dryRun: false, outcome: "corrected", error: null });
    expect(result.requestIds).toHaveLength(2);
    const plan = await cli("plan", "--target", "cli1");
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("No changes. The billing profile matches the desired settings.");
  });

  it("without --target acts on every target and returns {runs}", async () => {
    await cli("desired", "set", "--file", file("d2.json", { PurchaseOrderNumber: "9888" }), "--target", "cli2");
    const plan = await cli("plan", "--json");
    const { runs } = JSON.parse(plan.stdout);
    expect(runs.map((r: { target: string }) => r.target)).toEqual(expect.arrayContaining(["cli1", "cli2"]));
  });

  it("sync exits 1 on a failure and 2 when observe mode leaves drift", async () => {
    h.sim.inject({ method: "GET", fault: { kind: "status", status: 403 } });
    const failed = await cli("sync", "--target", "cli1");
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/Forbidden: Partner Center answered 403/);
    await cli("desired", "set", "--file", file("obs.json", { ...desired, PurchaseOrderNumber: "PO-8", Mode: "observe" }), "--target", "cliobs");
    const observed = await cli("sync", "--target", "cliobs");
    expect(observed.code).toBe(2);
    expect(observed.stdout).toMatch(/observe mode, nothing written/);
  });

  it("--version prints this build's version (package.json) and exits 0", async () => {
    expect(await cli("--version")).toMatchObject({ code: 0, stdout: `${packageVersion()}\n` });
    expect(await cli("-V")).toMatchObject({ code: 0, stdout: `${packageVersion()}\n` });
  });

  it("an unknown target or a bad target name exits 1 with a clear message", async () => {
    expect(await cli("sync", "--target", "nobody")).toMatchObject({ code: 1, stderr: expect.stringMatching(/Target "nobody" has no desired-state row/) });
    expect(await cli("plan", "--target", "a'b")).toMatchObject({ code: 1, stderr: expect.stringMatching(/Target name "a'b" is not allowed/) });
  });

  it("history lists runs newest first, without the stored profile", async () => {
    const history = await cli("history", "--target", "cli1", "--json");
    const { runs } = JSON.parse(history.stdout);
    expect(runs.length).toBeGreaterThanOrEqual(4);
    expect(runs[0].startedAt >= runs[runs.length - 1].startedAt).toBe(true);
    expect(runs.map((r: { outcome: string }) => r.outcome)).toContain("corrected");
    expect(history.stdout).not.toContain("profileBefore\"");
    expect(history.stdout).not.toContain("avery.former@contoso.example");
    const human = await cli("history", "--target", "cli1", "--limit", "2");
    expect(human.stdout.trim().split("\n")).toHaveLength(3);
    expect((await cli("history", "--limit", "0")).code).toBe(1);
  });

  it("status shows each target's last outcome, mode and suspension", async () => {
    const status = await cli("status", "--json");
    const { targets } = JSON.parse(status.stdout);
    const obs = targets.find((t: { target: string }) => t.target === "cliobs");
    expect(obs).toMatchObject({ mode: "observe", suspended: false, lastRun: { outcome: "drift" } });
    expect((await cli("status")).stdout).toMatch(/cliobs: drift at .* \(cli\); observe mode/);
  });

  it("a bad setting fails with its name", async () => {
    let stderr = "";
    const code = await runCli(["plan"], { stdout: () => {}, stderr: (t) => void (stderr += t), env: { ...h.env, PARTNER_CENTER_CLOUD: "germany" } });
    expect(code).toBe(1);
    expect(stderr).toMatch(/ConfigError: Setting PARTNER_CENTER_CLOUD is "germany"/);
  });

  it("the built command runs as a separate process with the same exit codes", async () => {
    // Async on purpose: the simulator and Azurite answer from this process's event loop.
    const bin = join(__dirname, "..", "..", "dist", "cli", "bin.js");
    const child = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = execFile(process.execPath, [bin, "plan", "--target", "cliobs", "--json"], { env: { ...process.env, ...h.env } }, (_err, stdout, stderr) =>
        resolve({ code: p.exitCode, stdout, stderr }),
      );
    });
    printed.push(child.stdout, child.stderr);
    expect(child.code).toBe(2);
    expect(JSON.parse(child.stdout)).toMatchObject({ target: "cliobs", outcome: "drift", dryRun: true });
  });

  it("the token appears in nothing the CLI printed nor in any history row", async () => {
    const everything = printed.join("\n") + JSON.stringify(await historyRows(h));
    expect(everything.length).toBeGreaterThan(1000);
    expect(everything).not.toContain(h.token);
  });
});
