import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TABLES } from "../../shared/stores/tables";
import { startHarness, type Harness } from "../support/harness";
import { cliOn, type CliOutput } from "../support/cli";

/**
 * Import and `desired set` check customer ids against the partner's customer list (one
 * paged listing per command, not one GET per customer); `--no-check` skips; adopt
 * --all-customers reports rows whose customer is no longer listed. Azurite and the
 * simulator, through the CLI; 1,200 customers make three pages of 500.
 */
let h: Harness;
let dir: string;
const CUSTOMERS = 1_200;

beforeAll(async () => {
  h = await startHarness({ customers: CUSTOMERS });
  dir = mkdtempSync(join(tmpdir(), "billing-sync-list-"));
});
afterAll(() => h.stop());
beforeEach(() => h.resetSimulator());

function cli(env: Record<string, string>, ...argv: string[]): Promise<CliOutput> {
  return cliOn(h, argv, env);
}
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const id = (i: number) => h.sim.customers().id(i);
/** Of the simulator's prefix, beyond its customers: not the partner's. */
const stranger = (n: number) => id(0).replace(/[0-9a-f]{12}$/, (50_000 + n).toString(16).padStart(12, "0"));
const listCalls = () => h.sim.requests.filter((r) => r.method === "GET" && /\/v1\/customers\/?(\?|$)/i.test(r.path)).length;
const rows = async () => (await h.rawRows(TABLES.desired)).filter((r) => r.rowKey === "billing-profile").map((r) => String(r.partitionKey));

describe("desired import against the customer list", () => {
  it("refuses an id that is not the partner's customer, naming its row; reads the list once, in pages, not a GET per customer", async () => {
    const csv = ["CustomerId,Email", `${id(1)},a@fabrikam.example`, `${stranger(1)},b@fabrikam.example`, `${id(1100)},c@fabrikam.example`, `${stranger(2)},d@fabrikam.example`].join("\n");
    const got = await cli({}, "desired", "import", "--file", write("mixed.csv", csv), "--json");
    expect(got.code).toBe(1);
    const report = JSON.parse(got.stdout) as { written: number; problems: { row: number; message: string }[] };
    expect(report.written).toBe(0);
    expect(report.problems.map((p) => p.row)).toEqual([2, 4]);
    expect(report.problems[0].message).toContain(`CustomerId ${stranger(1)} is not a customer of the partner`);
    expect(listCalls()).toBe(3);
    expect(h.sim.count("GET") - listCalls()).toBe(0);
    expect(await rows()).not.toContain(`customer-${stranger(1)}`);
  });

  it("--partial writes the listed customers only", async () => {
    const csv = ["CustomerId,Email", `${id(2)},a@fabrikam.example`, `${stranger(3)},b@fabrikam.example`].join("\n");
    const got = await cli({}, "desired", "import", "--file", write("partial.csv", csv), "--partial");
    expect(got.code).toBe(1);
    expect(got.stdout).toContain("row 2");
    expect(await rows()).toContain(`customer-${id(2)}`);
    expect(await rows()).not.toContain(`customer-${stranger(3)}`);
  });

  it("--no-check writes without asking Partner Center", async () => {
    const csv = ["CustomerId,Email", `${stranger(4)},a@fabrikam.example`].join("\n");
    const got = await cli({}, "desired", "import", "--file", write("nocheck.csv", csv), "--no-check");
    expect(got).toMatchObject({ code: 0 });
    expect(got.stdout).toContain("Not checked against the partner's customer list (--no-check)");
    expect(h.sim.count()).toBe(0);
    expect(await rows()).toContain(`customer-${stranger(4)}`);
  });

  it("when Partner Center cannot be reached, writes the rows and says they were not checked", async () => {
    const csv = ["CustomerId,Email", `${id(5)},a@fabrikam.example`].join("\n");
    const got = await cli({ PARTNER_CENTER_BASE_URL: "http://127.0.0.1:9/" }, "desired", "import", "--file", write("offline.csv", csv));
    expect(got.code).toBe(0);
    expect(got.stdout).toContain("Not checked against the partner's customer list (Partner Center could not be reached");
    expect(await rows()).toContain(`customer-${id(5)}`);
  });
});

describe("desired set against the customer list", () => {
  it("refuses a customer id that is not the partner's, and writes nothing; --no-check writes it", async () => {
    const file = write("set.json", JSON.stringify({ CustomerId: stranger(6), Email: "x@fabrikam.example" }));
    const refused = await cli({}, "desired", "set", "--file", file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`CustomerId ${stranger(6)} is not a customer of the partner`);
    expect(await rows()).not.toContain(`customer-${stranger(6)}`);
    const forced = await cli({}, "desired", "set", "--file", file, "--no-check");
    expect(forced.code).toBe(0);
    expect(await rows()).toContain(`customer-${stranger(6)}`);
  });
});

describe("desired adopt --all-customers", () => {
  it("reports the rows whose customer is no longer in the list, and changes none of them", async () => {
    const got = await cli({}, "desired", "adopt", "--all-customers", "--json");
    const report = JSON.parse(got.stdout) as { departed: { target: string; customerId: string }[] };
    expect(report.departed.map((d) => d.customerId).sort()).toEqual([stranger(4), stranger(6)].sort());
    const human = await cli({}, "desired", "adopt", "--all-customers");
    expect(human.stdout).toContain(`DEPARTED customer-${stranger(4)}`);
    expect(await rows()).toContain(`customer-${stranger(4)}`);
  });
});
