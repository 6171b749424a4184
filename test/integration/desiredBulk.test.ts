import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../cli/main";
import { StaticTokenCredential } from "../../shared/auth/staticCredential";
import { adoptAllCustomers } from "../../shared/engine/bulkDesired";
import { PartnerCenterClient } from "../../shared/partnerCenter/client";
import { TABLES } from "../../shared/stores/tables";
import type { NextLinkForm } from "../../simulator/customers";
import { fastRetry, startHarness, type Harness } from "../support/harness";

/**
 * Desired state in bulk, through the CLI, against Azurite and the simulator: import with
 * every row checked first (nothing written when one is invalid, unless --partial), export
 * read back by import, and adopt --all-customers paging GET /v1/customers.
 */
let h: Harness;
let dir: string;
const CUSTOMERS = 12;

beforeAll(async () => {
  h = await startHarness({ customers: CUSTOMERS });
  dir = mkdtempSync(join(tmpdir(), "billing-sync-bulk-"));
});
afterAll(() => h.stop());
beforeEach(() => h.resetSimulator());

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWith({}, ...argv);
}

async function cliWith(extra: { stderrIsTTY?: boolean }, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: h.env, engineOptions: { retry: fastRetry(h.waits) }, ...extra });
  return { code, stdout, stderr };
}

const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const desiredRows = async () => (await h.rawRows(TABLES.desired)).filter((r) => r.rowKey === "billing-profile");
const id = (i: number) => h.sim.customers().id(i);

describe("desired import", () => {
  it("writes one row per customer, named customer-<id>, and sync then corrects each customer", async () => {
    const before = (await desiredRows()).length;
    const csv = ["CustomerId,Email,DefaultAddress_City,Mode", `${id(0)},ap0@fabrikam.example,Seattle,enforce`, `${id(1)},ap1@fabrikam.example,,`].join("\n");
    const imported = await cli("desired", "import", "--file", write("two.csv", csv));
    expect(imported.code).toBe(0);
    // The preview of what the write changes comes first (docs/change-control.md).
    expect(imported.stdout).toMatch(/^This write changes the desired state of 2 targets \(2 new, 0 changed\):\n[^]*\nWrote 2 desired rows\.\n$/);
    expect((await desiredRows()).length).toBe(before + 2);
    const got = await cli("desired", "get", "--target", `customer-${id(1)}`);
    expect(JSON.parse(got.stdout)).toEqual({ CustomerId: id(1), Mode: "enforce", Suspended: false, Email: "ap1@fabrikam.example" });
    const sync = await cli("sync", "--target", `customer-${id(0)}`, "--json");
    expect(JSON.parse(sync.stdout)).toMatchObject({ outcome: "corrected", resource: { kind: "customer-billing-profile", customerTenantId: id(0) } });
    expect(h.sim.customers().profile(0)).toMatchObject({ email: "ap0@fabrikam.example", defaultAddress: { city: "Seattle" } });
  });

  it("checks every row first: a bad GUID, a bad e-mail, a customer twice and an unknown field are each named by row, and nothing is written", async () => {
    const before = await desiredRows();
    const csv = [
      "CustomerId,Email,FirstName",
      `${id(2)},ok@fabrikam.example,Robin`,
      `not-a-guid,ok@fabrikam.example,Robin`,
      `${id(3)},not-an-email,Robin`,
      `${id(2)},again@fabrikam.example,Robin`,
    ].join("\n");
    const result = await cli("desired", "import", "--file", write("bad.csv", csv));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/row 2 \(line 3\): CustomerId must be the customer's tenant id, a GUID\n/);
    expect(result.stdout).toMatch(/row 3 \(line 4\), target customer-[0-9a-f-]+: Email is not a valid e-mail address/);
    expect(result.stdout).toMatch(new RegExp(`row 4 \\(line 5\\), target customer-${id(2)}: target "customer-${id(2)}" is also in row 1; CustomerId ${id(2)} is also in row 1`));
    expect(result.stdout).toMatch(/Nothing was written: 3 of 4 rows are invalid\. Fix them, or use --partial to write the 1 valid rows\./);
    expect(result.stdout).not.toContain("not-an-email");
    expect(await desiredRows()).toEqual(before);
  });

  it("an unknown column stops the import even with --partial, naming the column", async () => {
    const before = await desiredRows();
    const result = await cli("desired", "import", "--partial", "--file", write("col.csv", `CustomerId,Emial\n${id(4)},a@b.co\n`));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/file, line 1: column 2 "E\*\*\*" is not a known column \(did you mean Email\?\)/);
    expect(result.stdout).toMatch(/Nothing was written: the file itself has problems\./);
    expect(await desiredRows()).toEqual(before);
  });

  it("--partial writes the valid rows, lists the others and exits 1", async () => {
    const csv = ["CustomerId,Email", `${id(5)},ok5@fabrikam.example`, `${id(6)},bad-email`].join("\n");
    const result = await cli("desired", "import", "--partial", "--file", write("partial.csv", csv));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/row 2 \(line 3\).*Email is not a valid e-mail address/);
    expect(result.stdout).toMatch(/Wrote 1 desired row; 1 invalid row left out\./);
    const targets = (await desiredRows()).map((r) => r.partitionKey);
    expect(targets).toContain(`customer-${id(5)}`);
    expect(targets).not.toContain(`customer-${id(6)}`);
  });

  it("a customer already managed under another target, or a target holding another kind, is refused", async () => {
    await h.setDesired("acme", { CustomerId: id(7), FirstName: "A" });
    await h.setDesired("partner-x", { PurchaseOrderNumber: "1" });
    const csv = ["Target,CustomerId,FirstName", `customer-${id(7)},${id(7)},B`, `partner-x,${id(8)},C`].join("\n");
    const result = await cli("desired", "import", "--file", write("clash.csv", csv));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`row 1 .*CustomerId ${id(7)} is already managed by target "acme"`));
    expect(result.stdout).toMatch(/row 2 .*target "partner-x" holds a partner billing profile; a customer billing profile needs a target of its own/);
  });

  it("reads JSON lines, profile-shaped, with an optional Target", async () => {
    const lines = [JSON.stringify({ Target: "fabrikam-eu", CustomerId: id(9), DefaultAddress: { City: "Dublin" } }), JSON.stringify({ CustomerId: id(10), Culture: "en-GB" })].join("\n");
    const result = await cli("desired", "import", "--file", write("rows.jsonl", lines), "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ rows: 2, written: 2, problems: [] });
    const got = await cli("desired", "get", "--target", "fabrikam-eu");
    expect(JSON.parse(got.stdout)).toMatchObject({ CustomerId: id(9), DefaultAddress: { City: "Dublin" } });
  });
});

describe("desired export", () => {
  it("writes every row; importing the file again changes nothing", async () => {
    const exported = await cli("desired", "export", "--out", join(dir, "all.csv"));
    const rows = await desiredRows();
    expect(exported.stdout).toBe(`Exported ${rows.length} desired rows to ${join(dir, "all.csv")} (csv).\n`);
    const text = readFileSync(join(dir, "all.csv"), "utf8");
    expect(text.split("\n")[0]).toMatch(/^"Target","CustomerId","Mode",/);
    const strip = (r: Record<string, unknown>) => {
      const { etag: _e, timestamp: _t, "odata.etag": _o, ...rest } = r;
      return rest;
    };
    const again = await cli("desired", "import", "--file", join(dir, "all.csv"));
    expect(again.code).toBe(0);
    expect((await desiredRows()).map(strip)).toEqual(rows.map(strip));
    const jsonl = await cli("desired", "export", "--out", join(dir, "all.jsonl"));
    expect(jsonl.code).toBe(0);
    expect(readFileSync(join(dir, "all.jsonl"), "utf8").trim().split("\n")).toHaveLength(rows.length);
  });
});

describe("GET /v1/customers paging", () => {
  it.each<NextLinkForm>(["v1", "unversioned", "doubled", "mixed"])("follows links.next written %s, with its MS-ContinuationToken, to the last page", async (form) => {
    h.sim.configure({ nextLinkForm: form });
    const client = new PartnerCenterClient({ baseUrl: h.env.PARTNER_CENTER_BASE_URL, credential: new StaticTokenCredential(h.token), scope: "x" });
    const seen: string[] = [];
    for await (const page of client.listCustomers({ correlationId: "c", pageSize: 5 })) seen.push(...page.customers.map((c) => c.id));
    expect(seen).toEqual(h.sim.customers().ids());
    const lists = h.sim.requests.filter((r) => r.path.includes("customers"));
    expect(lists.map((r) => `${r.path} ${r.status}`)).toEqual(["/v1/customers 200", "/v1/customers 200", "/v1/customers 200"]);
    expect(lists[0].headers["ms-continuationtoken"]).toBeUndefined();
    expect(lists.slice(1).every((r) => (r.headers["ms-continuationtoken"] ?? "").length > 0)).toBe(true);
    h.sim.configure({ nextLinkForm: "v1" });
  });
});

describe("desired adopt --all-customers", () => {
  it("counts first; --apply writes each unmanaged customer's live profile as its row, and a plan then finds them in sync", async () => {
    const managedBefore = (await desiredRows()).filter((r) => typeof r.CustomerId === "string").length;
    const preview = await cli("desired", "adopt", "--all-customers");
    expect(preview.code).toBe(2);
    expect(preview.stdout).toMatch(new RegExp(`Customers listed: ${CUSTOMERS} in 1 page; ${managedBefore} already have a desired row\\.`));
    expect(preview.stdout).toMatch(new RegExp(`${CUSTOMERS - managedBefore} customers would get a desired row .* Nothing written\\.`));
    expect(h.sim.count("GET")).toBe(1);

    h.sim.customers().write(11, { "defaultAddress.addressLine1": "" });
    const applied = await cli("desired", "adopt", "--all-customers", "--apply", "--json");
    expect(applied.code).toBe(0);
    const report = JSON.parse(applied.stdout);
    expect(report).toMatchObject({ listed: CUSTOMERS, toAdopt: CUSTOMERS - managedBefore, adopted: CUSTOMERS - managedBefore, failed: [], fieldsLeftOut: { DefaultAddress_AddressLine1: 1 } });
    const row = (await desiredRows()).find((r) => r.partitionKey === `customer-${id(11)}`);
    expect(row).toMatchObject({ CustomerId: id(11), Mode: "enforce", FirstName: "First11", Email: "billing11@customer11.example", DefaultAddress_City: "Redmond" });
    expect(row).not.toHaveProperty("DefaultAddress_AddressLine1");

    h.sim.resetRequests();
    const plan = await cli("plan", "--target", `customer-${id(11)}`, "--json");
    expect(JSON.parse(plan.stdout)).toMatchObject({ outcome: "in-sync" });
    expect(plan.code).toBe(0);

    const again = await cli("desired", "adopt", "--all-customers", "--json");
    expect(JSON.parse(again.stdout)).toMatchObject({ toAdopt: 0, alreadyManaged: CUSTOMERS });
  });

  it("pages through several pages (engine API, small pages)", async () => {
    const engine = h.engine();
    const report = await adoptAllCustomers(engine, { pageSize: 5 });
    expect(report).toMatchObject({ listed: CUSTOMERS, pages: 3, toAdopt: 0 });
  });
});

describe("progress", () => {
  it("shows on stderr only when it is a terminal, and is cleared at the end; stdout keeps the result", async () => {
    const csv = ["CustomerId,Mode", ...Array.from({ length: 3 }, (_, i) => `${id(i)},enforce`)].join("\n");
    const path = write("progress.csv", csv);
    // --yes: the rows hold fields from earlier tests that this file stops managing.
    const tty = await cliWith({ stderrIsTTY: true }, "desired", "import", "--file", path, "--yes");
    expect(tty.stderr).toMatch(/\r\u001b\[2KWriting desired rows: \d\/3/);
    expect(tty.stderr.endsWith("\r\u001b[2K")).toBe(true);
    expect(tty.stdout).toMatch(/\nWrote 3 desired rows\.\n$/);
    const piped = await cli("desired", "import", "--file", path);
    expect(piped.stderr).toBe("");
    const plan = await cliWith({ stderrIsTTY: true }, "plan", "--json");
    expect(plan.stderr).toMatch(/Planning: 1\/\d+ targets \((in-sync|drift|failed|invalid-desired) 1\)/);
    expect(() => JSON.parse(plan.stdout)).not.toThrow();
  });
});
