import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../cli/main";
import { TABLES } from "../../shared/stores/tables";
import { fastRetry, historyRows, startHarness, type Harness } from "../support/harness";

/**
 * Targets come and go (issue 20): `desired import --prune` deletes the rows of customers a
 * file that is the whole set of customer rows no longer names, and `desired adopt
 * --all-customers --prune-departed` those of customers no longer in the customer list;
 * both after the guard of any mass change (deletions counted: 25 go, 26 need --yes;
 * --dry-run shows them), each deletion logged; partner rows never pruned. Azurite and the
 * simulator; a customer id the simulator does not list has departed.
 */
let h: Harness;
let dir: string;
const CUSTOMERS = 30;

beforeAll(async () => {
  h = await startHarness({ customers: CUSTOMERS });
  dir = mkdtempSync(join(tmpdir(), "billing-sync-prune-"));
});
afterAll(() => h.stop());

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: h.env, engineOptions: { retry: fastRetry(h.waits) } });
  return { code, stdout, stderr };
}
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const id = (i: number) => h.sim.customers().id(i);
const customer = (i: number) => `customer-${id(i)}`;
const csv = (ids: number[]) => ["CustomerId,Email", ...ids.map((i) => `${id(i)},ap${i}@fabrikam.example`)].join("\n");
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const logOf = async (target: string) => (await h.rawRows(TABLES.desiredChanges)).filter((r) => r.partitionKey === target);
const customerTargets = async () => (await h.engine().listTargets()).filter((t) => t.startsWith("customer-")).sort();
/** A customer id of the simulator's prefix beyond its customers: not in the customer list. */
const departedId = (n: number) => id(0).replace(/[0-9a-f]{12}$/, (0xa00 + n).toString(16).padStart(12, "0"));

async function clearDesired(): Promise<void> {
  const e = h.engine();
  for (const t of await e.listTargets()) await e.desired.delete(t);
}

/** The partner's own rows: `default`, and a partner row under a target of its own. */
async function partnerRows(): Promise<void> {
  await h.setDesired("default", { PurchaseOrderNumber: "PO-PARTNER" });
  await h.setDesired("partner-eu", { PurchaseOrderNumber: "PO-EU" });
}

describe("desired import --prune", () => {
  beforeAll(async () => {
    await clearDesired();
    await partnerRows();
    expect((await run("desired", "import", "--file", write("all.csv", csv(range(0, 27))), "--yes")).code).toBe(0);
    // A run of a customer that will be pruned: its history must outlive its row.
    expect((await run("plan", "--target", customer(26))).code).not.toBe(1);
  });

  it("--dry-run shows the deletions (26) and deletes nothing", async () => {
    const dry = await run("desired", "import", "--file", write("one.csv", csv([0])), "--prune", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/changes the desired state of 26 targets \(0 new, 0 changed, 26 deleted, 1 unchanged\)/);
    expect(dry.stdout).toMatch(/Rows deleted: customer-\S+, customer-\S+, customer-\S+ and 23 more/);
    expect(dry.stdout).toContain("Dry run: nothing written.");
    expect(await customerTargets()).toHaveLength(27);
  });

  it("26 deletions print the summary, delete nothing and exit 2 without --yes", async () => {
    const refused = await run("desired", "import", "--file", write("one.csv", csv([0])), "--prune");
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/26 deleted/);
    expect(refused.stdout).toMatch(/Nothing was written: it changes the desired state of 26 targets, more than --max-targets 25/);
    expect(await customerTargets()).toHaveLength(27);
  });

  it("25 deletions go without --yes (with --merge too): logged as deletes with the command and reason; partner rows and history untouched", async () => {
    const pruned = await run("desired", "import", "--file", write("two.csv", csv([0, 1])), "--prune", "--merge", "--reason", "offboarding Q4");
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain("Deleted 25 desired rows of customers not in the file (--prune)");
    expect(await customerTargets()).toEqual([customer(0), customer(1)].sort());
    expect((await h.engine().desired.get("default"))?.properties.PurchaseOrderNumber).toBe("PO-PARTNER");
    expect((await h.engine().desired.get("partner-eu"))?.properties.PurchaseOrderNumber).toBe("PO-EU");
    const [entry] = await logOf(customer(26));
    expect(entry).toMatchObject({ Kind: "delete", State: "done", Command: "desired import --merge --prune", Reason: "offboarding Q4", Via: "cli" });
    expect(JSON.parse(String(entry.Fields))).toContainEqual({ field: "Email", before: "ap26@fabrikam.example", after: null });
    expect((await logOf(customer(0))).map((r) => r.Kind)).toEqual(["write"]);
    expect(await historyRows(h, customer(26))).not.toHaveLength(0);
  });

  it("--yes deletes 26; a file with no customer rows prunes every customer and no partner row", async () => {
    expect((await run("desired", "import", "--file", write("more.csv", csv(range(0, 27))), "--yes")).code).toBe(0);
    expect((await run("desired", "import", "--file", write("partner.csv", "Target,PurchaseOrderNumber\ndefault,PO-PARTNER"), "--prune")).code).toBe(2);
    const yes = await run("desired", "import", "--file", write("partner.csv", "Target,PurchaseOrderNumber\ndefault,PO-PARTNER"), "--prune", "--yes", "--json");
    expect(yes.code).toBe(0);
    expect(JSON.parse(yes.stdout)).toMatchObject({ deleted: 27 });
    expect(await customerTargets()).toEqual([]);
    expect((await h.engine().listTargets()).sort()).toEqual(["default", "partner-eu"]);
  });

  it("refuses --partial with --prune, and prunes nothing when a row is invalid", async () => {
    expect((await run("desired", "import", "--file", write("p.csv", csv([0, 1])), "--prune", "--partial")).stderr).toMatch(/--prune .*--partial/);
    expect((await run("desired", "import", "--file", write("p.csv", csv([0, 1])))).code).toBe(0);
    const bad = await run("desired", "import", "--file", write("bad.csv", `${csv([0])}\nnot-a-guid,x@fabrikam.example`), "--prune", "--yes");
    expect(bad.code).toBe(1);
    expect(await customerTargets()).toEqual([customer(0), customer(1)].sort());
  });
});

describe("desired adopt --all-customers --prune-departed", () => {
  it("shows the departed rows without --apply; 26 need --yes; then they are deleted and logged, partner rows untouched", async () => {
    await clearDesired();
    await partnerRows();
    // Every listed customer already has a row: adopt writes nothing else.
    for (const i of range(0, CUSTOMERS)) await h.setDesired(customer(i), { CustomerId: id(i) });
    const departed = range(0, 26).map((n) => `customer-${departedId(n)}`);
    for (const [n, target] of departed.entries()) await h.setDesired(target, { CustomerId: departedId(n) });

    const shown = await run("desired", "adopt", "--all-customers", "--prune-departed");
    expect(shown.code).toBe(2);
    expect(shown.stdout).toMatch(/26 desired rows' customers are no longer in the customer list/);
    expect(shown.stdout).toMatch(/26 deleted/);
    expect(shown.stdout).toContain("26 departed customer rows would be deleted. Nothing written.");
    const refused = await run("desired", "adopt", "--all-customers", "--prune-departed", "--apply");
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/Nothing was written: it changes the desired state of 26 targets, more than --max-targets 25/);
    expect(await h.engine().desired.get(departed[0])).toBeDefined();

    const applied = await run("desired", "adopt", "--all-customers", "--prune-departed", "--apply", "--yes", "--reason", "customers left");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain("Deleted 26 desired rows of departed customers");
    for (const target of departed) expect(await h.engine().desired.get(target)).toBeUndefined();
    expect(await customerTargets()).toHaveLength(CUSTOMERS);
    expect((await h.engine().listTargets()).filter((t) => !t.startsWith("customer-")).sort()).toEqual(["default", "partner-eu"]);
    const [entry] = await logOf(departed[0]);
    expect(entry).toMatchObject({ Kind: "delete", State: "done", Command: "desired adopt --all-customers --prune-departed", Reason: "customers left" });
  });

  it("--prune-departed needs --all-customers", async () => {
    expect((await run("desired", "adopt", "--prune-departed")).stderr).toMatch(/--prune-departed goes with --all-customers/);
  });
});
