import { HttpRequest, InvocationContext } from "@azure/functions";
import { runCli } from "../../cli/main";
import { statusHttp } from "../../functions/statusHttp";
import type { Engine } from "../../shared/engine/engine";
import type { JsonObject } from "../../shared/core/json";
import { startHarness, type Harness } from "../support/harness";

/**
 * Status for many targets: the summary counts by the latest outcome and lists the targets
 * that need a person; GET /api/status pages. Forty customers and a partner profile, with
 * runs that end in every way a person must see.
 */
let h: Harness;
let engine: Engine;
const CUSTOMERS = 40;
const target = (i: number) => `customer-${h.sim.customers().id(i)}`;

const context = () => new InvocationContext({ functionName: "status", invocationId: "inv" });
async function getStatus(query: string): Promise<{ status: number; body: JsonObject }> {
  const res = await statusHttp(new HttpRequest({ method: "GET", url: `http://localhost:7071/api/status${query}` }), context());
  return { status: res.status ?? 200, body: res.jsonBody as JsonObject };
}
async function cli(...argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: () => {}, env: h.env });
  return { code, stdout };
}

beforeAll(async () => {
  h = await startHarness({ customers: CUSTOMERS });
  h.useProcessEnv();
  engine = h.engine();
  const ids = h.sim.customers().ids();
  // 0-29 in sync; 30-34 drifted and corrected; 35 observe (drift); 36 suspended; 37 not converged; 38 contested; 39 never run.
  for (let i = 0; i < CUSTOMERS; i++) {
    const doc: Record<string, unknown> = { CustomerId: ids[i], FirstName: `First${i}` };
    if (i >= 30 && i < 35) doc.FirstName = `Corrected${i}`;
    if (i === 35) Object.assign(doc, { FirstName: "Watched", Mode: "observe" });
    if (i === 36) doc.Suspended = true;
    if (i === 37) doc.CompanyName = "lower case ltd";
    if (i === 38) doc.FirstName = "Robin";
    await h.setDesired(target(i), doc);
  }
  await h.setDesiredEntity("customer-broken", { CustomerId: "nope" });
  await h.setDesired("customer-gone", { CustomerId: "0badc0de-0000-4000-8000-000000000001", FirstName: "X" });
  await h.setDesired("default", { PurchaseOrderNumber: "9888" });
  // The service keeps company names in capitals: customer 37 never converges.
  h.sim.configure({ rewrite: (p) => void (typeof p.companyName === "string" && (p.companyName = p.companyName.toUpperCase())) });
  const runAll = (targets: string[]) => Promise.all(targets.map((t) => engine.syncTarget({ target: t, trigger: "timer" })));
  await runAll([...Array.from({ length: 39 }, (_, i) => target(i)), "customer-broken", "customer-gone", "default"]);
  // Someone keeps reverting customer 38's first name: three corrections within the day.
  for (let n = 0; n < 2; n++) {
    h.sim.customers().write(38, { firstName: "Reverted" });
    await engine.syncTarget({ target: target(38), trigger: "timer" });
  }
});
afterAll(() => h.stop());

describe("status summary", () => {
  it("counts by the latest outcome and lists the failed, contested, not-converged and gone targets", async () => {
    const { code, stdout } = await cli("status", "--json");
    expect(code).toBe(0);
    const { summary, targets } = JSON.parse(stdout);
    expect(targets).toBeUndefined();
    expect(summary).toMatchObject({
      targets: 43,
      byKind: { "customer-billing-profile": 42, "partner-billing-profile": 1 },
      byOutcome: { "in-sync": 31, corrected: 6, drift: 1, suspended: 1, "not-converged": 1, "invalid-desired": 1, gone: 1, "never-run": 1 },
      observe: 1,
      suspended: 1,
      runningNow: 0,
      poison: 0,
    });
    // A customer whose profile answers 404 has left: gone, not failed (issue 20).
    expect(summary.failed.map((f: { target: string }) => f.target).sort()).toEqual(["customer-broken"]);
    expect(summary.gone).toEqual([expect.objectContaining({ target: "customer-gone", suspended: false })]);
    expect(summary.contested).toEqual([{ target: target(38), fields: ["FirstName"] }]);
    expect(summary.notConverged).toEqual([{ target: target(37), fields: ["CompanyName"] }]);
  });

  it("a person reads it at a glance; no per-target lines for this many targets", async () => {
    const { stdout } = await cli("status");
    expect(stdout).toMatch(/^43 targets \(42 customer billing profiles, 1 partner billing profile\); 1 suspended, 1 in observe mode\.\n/);
    expect(stdout).toMatch(/Latest runs: in-sync 31, corrected 6, drift 1, not-converged 1, invalid-desired 1, gone 1, suspended 1, never-run 1\n/);
    expect(stdout).toMatch(/FAILED \(1\):\n {2}customer-broken: /);
    expect(stdout).toContain("GONE (1):\n  customer-gone: the customer's profile answers 403/404");
    expect(stdout).toContain(`CONTESTED (1):\n  ${target(38)}: FirstName corrected again and again`);
    expect(stdout).toContain(`NOT CONVERGED (1):\n  ${target(37)}: Partner Center does not keep CompanyName`);
    expect(stdout).not.toContain(`${target(0)}:`);
  });

  it("--target shows one target in full", async () => {
    const { stdout } = await cli("status", "--target", target(38), "--json");
    const [one] = JSON.parse(stdout).targets;
    expect(one).toMatchObject({ target: target(38), resourceKind: "customer-billing-profile", customerId: h.sim.customers().id(38), contested: [{ field: "FirstName", count: 3 }] });
    expect((await cli("status", "--target", "nobody")).code).toBe(1);
  });
});

describe("GET /api/status", () => {
  it("pages: every target exactly once, in order, pageSize at a time, with a continuation token until the last page", async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const { status, body } = await getStatus(`?pageSize=10${token ? `&continuationToken=${encodeURIComponent(token)}` : ""}`);
      expect(status).toBe(200);
      const targets = body.targets as { target: string }[];
      expect(targets.length).toBeLessThanOrEqual(10);
      seen.push(...targets.map((t) => t.target));
      token = body.continuationToken as string | undefined;
      pages++;
    } while (token);
    expect(pages).toBe(5);
    expect(seen).toEqual((await engine.listTargets()).sort());
  });

  it("summary=true adds the summary; target= gives one target; bad parameters are 400 and an unknown target 404", async () => {
    const first = await getStatus("?summary=true&pageSize=5");
    expect(first.body).toMatchObject({ summary: { targets: 43 }, continuationToken: expect.any(String) });
    expect((first.body.targets as unknown[]).length).toBe(5);
    const one = await getStatus(`?target=${target(37)}`);
    expect(one.body).toMatchObject({ targets: [{ target: target(37), notConverged: [{ field: "CompanyName" }] }] });
    expect((await getStatus("?pageSize=0")).status).toBe(400);
    expect((await getStatus("?pageSize=5000")).status).toBe(400);
    expect((await getStatus("?continuationToken=garbage")).body).toMatchObject({ error: { code: "InvalidQuery" } });
    expect((await getStatus("?target=nobody")).status).toBe(404);
    expect((await getStatus("?target=a'b")).status).toBe(400);
    // The function key travels as ?code=: it is no business of the route.
    expect((await getStatus("?code=abc&pageSize=2")).status).toBe(200);
  });
});
