import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TableClient } from "@azure/data-tables";
import { runCli } from "../../cli/main";
import { writeDesiredRow, readChangeLog, type WriteContext } from "../../shared/engine/desiredWrite";
import type { Engine } from "../../shared/engine/engine";
import { TABLES } from "../../shared/stores/tables";
import { startHarness, type Harness } from "../support/harness";
import { cliOn, type CliOutput } from "../support/cli";

/**
 * Change control of the desired state, on Azurite and the simulator: every write logged
 * (also with the process dying between the entry and the row), an edit made with
 * @azure/data-tables directly found and (under block) held until accepted, the guard at
 * 25 and 26 targets, a replacing import that drops fields, --merge, --dry-run, and
 * personal values masked in `desired log` unless --show-personal.
 */
let h: Harness;
let dir: string;
const CUSTOMERS = 30;

beforeAll(async () => {
  h = await startHarness({ customers: CUSTOMERS });
  dir = mkdtempSync(join(tmpdir(), "billing-sync-change-"));
});
afterAll(() => h.stop());
beforeEach(() => h.resetSimulator());

function cli(env: Record<string, string>, ...argv: string[]): Promise<CliOutput> {
  return cliOn(h, argv, env);
}
const run = (...argv: string[]) => cli({}, ...argv);

const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const id = (i: number) => h.sim.customers().id(i);
const logOf = async (target: string) => (await h.rawRows(TABLES.desiredChanges)).filter((r) => r.partitionKey === target);
const context = (extra: Partial<WriteContext> = {}): WriteContext => ({ actor: { name: "tester@host", verified: false }, via: "cli", command: "test", ...extra });
const rawDesired = () => TableClient.fromConnectionString(h.storage.connectionString, TABLES.desired, { allowInsecureConnection: true });

describe("the change log", () => {
  it("records desired set with who (OS user, unverified), via, reason and each field before and after, unmasked only in the table", async () => {
    const file = write("po.json", JSON.stringify({ PurchaseOrderNumber: "PO-1", PrimaryContact: { Email: "ap@contoso.example" } }));
    expect((await run("desired", "set", "--file", file, "--target", "cc-set", "--no-check", "--reason", "ticket 4411")).code).toBe(0);
    const file2 = write("po2.json", JSON.stringify({ PurchaseOrderNumber: "PO-2", PrimaryContact: { Email: "billing@contoso.example" } }));
    expect((await run("desired", "set", "--file", file2, "--target", "cc-set", "--no-check", "--reason", "new contact")).code).toBe(0);
    const rows = await logOf("cc-set");
    expect(rows).toHaveLength(2);
    const newest = rows[0];
    expect(newest).toMatchObject({ Kind: "write", State: "done", Via: "cli", Command: "desired set", Reason: "new contact", Verified: false });
    expect(String(newest.Actor)).toMatch(/.+@.+/);
    expect(JSON.parse(String(newest.Fields))).toEqual(
      expect.arrayContaining([
        { field: "PurchaseOrderNumber", before: "PO-1", after: "PO-2" },
        { field: "PrimaryContact_Email", before: "ap@contoso.example", after: "billing@contoso.example" },
      ]),
    );
    const row = await rawDesired().getEntity("cc-set", "billing-profile");
    expect(newest.EtagAfter).toBe(row.etag);

    const masked = await run("desired", "log", "--target", "cc-set");
    expect(masked.stdout).toContain("desired set");
    expect(masked.stdout).toContain("reason: new contact");
    expect(masked.stdout).not.toContain("billing@contoso.example");
    expect(masked.stdout).toContain('PrimaryContact_Email: "a***@***" -> "b***@***"');
    expect(masked.stdout).toContain('PurchaseOrderNumber: "PO-1" -> "PO-2"');
    const shown = await run("desired", "log", "--target", "cc-set", "--show-personal", "--json");
    const entries = JSON.parse(shown.stdout).entries as { fields: { field: string; after: string }[] }[];
    expect(entries[0].fields.find((f) => f.field === "PrimaryContact_Email")?.after).toBe("billing@contoso.example");
  });

  it("the audit report has a section \"Changes to the desired state\": who, why, fields; masked unless --show-personal; a deleted target's changes too", async () => {
    await run("desired", "set", "--file", write("rp.json", JSON.stringify({ PrimaryContact: { Email: "report.person@contoso.example" } })), "--target", "cc-report", "--no-check", "--reason", "onboarding");
    await run("desired", "delete", "--target", "cc-report", "--reason", "offboarding");
    const masked = join(dir, "masked.html");
    expect((await run("report", "--out", masked)).code).toBe(0);
    const html = readFileSync(masked, "utf8");
    const section = html.slice(html.indexOf('<section id="desired-changes">'), html.indexOf('<section id="desired">'));
    expect(section).toContain("<h2>Changes to the desired state</h2>");
    expect(section).toMatch(/cc-report<\/td><td>desired delete \(row deleted\)/);
    expect(section).toContain("offboarding");
    expect(section).toContain("(unverified, cli)");
    expect(section).toContain("r***@***");
    expect(html).not.toContain("report.person@contoso.example");
    const shown = join(dir, "shown.html");
    await run("report", "--out", shown, "--show-personal");
    expect(readFileSync(shown, "utf8")).toContain("report.person@contoso.example");
  });

  it("refuses a write without --reason when BILLING_SYNC_REQUIRE_REASON=true, and writes nothing", async () => {
    const file = write("r.json", JSON.stringify({ PurchaseOrderNumber: "PO-R" }));
    const refused = await cli({ BILLING_SYNC_REQUIRE_REASON: "true" }, "desired", "set", "--file", file, "--target", "cc-reason", "--no-check");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ReasonRequired: .*--reason/);
    expect(await h.engine().desired.get("cc-reason")).toBeUndefined();
    expect(await logOf("cc-reason")).toHaveLength(0);
    expect((await cli({ BILLING_SYNC_REQUIRE_REASON: "true" }, "desired", "set", "--file", file, "--target", "cc-reason", "--no-check", "--reason", "why")).code).toBe(0);
  });

  it("desired delete removes the row, keeps the log and logs the deletion", async () => {
    await run("desired", "set", "--file", write("d.json", JSON.stringify({ PurchaseOrderNumber: "PO-D" })), "--target", "cc-del", "--no-check");
    const deleted = await run("desired", "delete", "--target", "cc-del", "--reason", "customer left");
    expect(deleted.code).toBe(0);
    expect(await h.engine().desired.get("cc-del")).toBeUndefined();
    const rows = await logOf("cc-del");
    expect(rows.map((r) => r.Kind)).toEqual(["delete", "write"]);
    expect(rows[0]).toMatchObject({ State: "done", Reason: "customer left" });
    expect(JSON.parse(String(rows[0].Fields))).toContainEqual({ field: "PurchaseOrderNumber", before: "PO-D", after: null });
  });
});

describe("a write and its entry never disagree", () => {
  const died = new Error("the process died here");
  const setup = async (target: string) => {
    const e = h.engine();
    await writeDesiredRow(e, { target, after: { PurchaseOrderNumber: "A" } }, context());
    return e;
  };
  const stateOf = async (e: Engine, target: string) => (await readChangeLog(e, target, { now: new Date(Date.now() + 10 * 60_000) }))[0];

  it("dies after the pending entry, before the row: the entry is settled as abandoned and the row is untouched", async () => {
    const e = await setup("cc-fault1");
    await expect(writeDesiredRow(e, { target: "cc-fault1", after: { PurchaseOrderNumber: "B" } }, context({ faultAfter: (s) => { if (s === "pending") throw died; } }))).rejects.toBe(died);
    expect((await logOf("cc-fault1"))[0].State).toBe("pending");
    // Within the grace a write may still be in flight: left pending.
    expect((await readChangeLog(e, "cc-fault1"))[0].state).toBe("pending");
    expect(await stateOf(e, "cc-fault1")).toMatchObject({ state: "abandoned" });
    expect((await e.desired.get("cc-fault1"))?.properties.PurchaseOrderNumber).toBe("A");
  });

  it("dies after the row, before the entry is confirmed: the entry is settled as done with the row's ETag", async () => {
    const e = await setup("cc-fault2");
    await expect(writeDesiredRow(e, { target: "cc-fault2", after: { PurchaseOrderNumber: "B" } }, context({ faultAfter: (s) => { if (s === "row") throw died; } }))).rejects.toBe(died);
    expect((await logOf("cc-fault2"))[0].State).toBe("pending");
    const row = await e.desired.get("cc-fault2");
    expect(row?.properties.PurchaseOrderNumber).toBe("B");
    expect((await readChangeLog(e, "cc-fault2"))[0]).toMatchObject({ state: "done", etagAfter: row?.etag });
  });

  it("a row write refused (changed since it was read) leaves an abandoned entry and the other writer's row", async () => {
    const e = await setup("cc-fault3");
    const stale = await e.desired.get("cc-fault3");
    await rawDesired().upsertEntity({ partitionKey: "cc-fault3", rowKey: "billing-profile", PurchaseOrderNumber: "X" }, "Replace");
    await expect(writeDesiredRow(e, { target: "cc-fault3", before: stale!, after: { PurchaseOrderNumber: "B" } }, context())).rejects.toMatchObject({ code: "StaleEtag" });
    expect((await logOf("cc-fault3"))[0].State).toBe("abandoned");
    expect((await e.desired.get("cc-fault3"))?.properties.PurchaseOrderNumber).toBe("X");
  });

  it("a pending entry left by a dead process is settled before the next write moves the row on", async () => {
    const e = await setup("cc-fault4");
    await expect(writeDesiredRow(e, { target: "cc-fault4", after: { PurchaseOrderNumber: "B" } }, context({ faultAfter: (s) => { if (s === "row") throw died; } }))).rejects.toBe(died);
    await writeDesiredRow(e, { target: "cc-fault4", after: { PurchaseOrderNumber: "C" } }, context());
    expect((await logOf("cc-fault4")).map((r) => `${r.State}`)).toEqual(["done", "done", "done"]);
  });
});

describe("edits made outside billing-sync", () => {
  const seed = async (target: string) => {
    await run("desired", "set", "--file", write(`${target}.json`, JSON.stringify({ PurchaseOrderNumber: "PO-OK" })), "--target", target, "--no-check");
    const row = await rawDesired().getEntity<Record<string, unknown>>(target, "billing-profile");
    // Storage Explorer, `az storage entity merge`: anything but billing-sync.
    await rawDesired().updateEntity({ ...row, partitionKey: target, rowKey: "billing-profile", PurchaseOrderNumber: "PO-HAND" }, "Replace");
  };

  it("warn (default): the run goes on with the row as it is, says so, logs it once, and status says so", async () => {
    await seed("default");
    const sync = await run("sync", "--target", "default", "--json");
    const result = JSON.parse(sync.stdout);
    expect(result.outcome).toBe("corrected");
    expect(h.sim.getProfile().purchaseOrderNumber).toBe("PO-HAND");
    expect(result.warnings.join(" ")).toMatch(/changed outside billing-sync .*PurchaseOrderNumber/);
    await run("plan", "--target", "default");
    const outside = (await logOf("default")).filter((r) => r.Kind === "outside");
    expect(outside).toHaveLength(1);
    expect(JSON.parse(String(outside[0].Fields))).toEqual([{ field: "PurchaseOrderNumber", before: "PO-OK", after: "PO-HAND" }]);
    expect(outside[0]).toMatchObject({ Actor: "unknown", Command: "changed outside billing-sync" });
    const log = await run("desired", "log", "--target", "default");
    expect(log.stdout).toContain("CHANGED OUTSIDE BILLING-SYNC");
    const status = await run("status", "--target", "default");
    expect(status.stdout).toMatch(/CHANGED OUTSIDE BILLING-SYNC \(found .*\): PurchaseOrderNumber; accept it with/);
  });

  it("a long-lived engine (a worker) that skips the log while a row keeps its ETag still finds the next edit", async () => {
    const worker = h.engine();
    await run("desired", "set", "--file", write("wk.json", JSON.stringify({ PurchaseOrderNumber: "PO-WK" })), "--target", "cc-worker", "--no-check");
    for (let i = 0; i < 2; i++) expect((await worker.syncTarget({ target: "cc-worker", trigger: "timer", dryRun: true })).warnings ?? []).toEqual([]);
    const row = await rawDesired().getEntity<Record<string, unknown>>("cc-worker", "billing-profile");
    await rawDesired().updateEntity({ ...row, partitionKey: "cc-worker", rowKey: "billing-profile", PurchaseOrderNumber: "PO-WK-HAND" }, "Replace");
    const found = await worker.syncTarget({ target: "cc-worker", trigger: "timer", dryRun: true });
    expect(found.warnings?.join(" ")).toMatch(/changed outside billing-sync/);
    // Said again on every run until accepted: a row changed outside is never taken as clean.
    expect((await worker.syncTarget({ target: "cc-worker", trigger: "timer", dryRun: true })).warnings?.join(" ")).toMatch(/changed outside billing-sync/);
  });

  it("sends DesiredStateChangedOutside and DesiredStateChanged with names and ids only, never a value", async () => {
    const events: { name: string; dimensions: Record<string, string> }[] = [];
    const onEvent = (name: string, dimensions: Record<string, string>) => void events.push({ name, dimensions });
    let out = "";
    const file = write("ev.json", JSON.stringify({ PurchaseOrderNumber: "PO-EV", PrimaryContact: { Email: "secret.person@contoso.example" } }));
    await runCli(["desired", "set", "--file", file, "--target", "cc-events", "--no-check", "--reason", "call secret.person@contoso.example"], { stdout: (t) => void (out += t), stderr: (t) => void (out += t), env: h.env, engineOptions: { onEvent } });
    const row = await rawDesired().getEntity<Record<string, unknown>>("cc-events", "billing-profile");
    await rawDesired().updateEntity({ ...row, partitionKey: "cc-events", rowKey: "billing-profile", PrimaryContact_Email: "other.person@contoso.example" }, "Replace");
    await h.engine({ onEvent }).syncTarget({ target: "cc-events", trigger: "cli", dryRun: true });
    expect(events.map((e) => e.name)).toEqual(["DesiredStateChanged", "DesiredStateChangedOutside"]);
    expect(events[1].dimensions).toMatchObject({ target: "cc-events", fields: "PrimaryContact_Email", policy: "warn" });
    const text = JSON.stringify(events);
    for (const value of ["secret.person", "other.person", "PO-EV"]) expect(text).not.toContain(value);
  });

  it("block: the target is held (no PUT) until desired accept, which is logged", async () => {
    await seed("default");
    h.resetSimulator();
    const env = { BILLING_SYNC_OUT_OF_BAND: "block" };
    const held = JSON.parse((await cli(env, "sync", "--target", "default", "--json")).stdout);
    expect(held.outcome).toBe("held");
    expect(h.sim.count("PUT")).toBe(0);
    expect((await cli(env, "desired", "accept", "--target", "default")).stderr).toMatch(/ReasonRequired/);
    const accepted = await cli(env, "desired", "accept", "--target", "default", "--reason", "finance changed the PO by hand");
    expect(accepted.code).toBe(0);
    expect((await logOf("default"))[0]).toMatchObject({ Kind: "accept", Reason: "finance changed the PO by hand" });
    const after = JSON.parse((await cli(env, "sync", "--target", "default", "--json")).stdout);
    expect(after.outcome).toBe("corrected");
    expect(h.sim.getProfile().purchaseOrderNumber).toBe("PO-HAND");
  });
});

describe("--show-personal on plan, sync and history", () => {
  it("shows the values to the person at the terminal; without it they stay masked, and the engine's logs stay masked either way", async () => {
    h.resetSimulator();
    await run("desired", "set", "--file", write("sp.json", JSON.stringify({ PrimaryContact: { Email: "reviewer.view@contoso.example" } })), "--no-check", "--yes");
    const live = String((h.sim.getProfile().primaryContact as { email: string }).email);
    const masked = await run("plan", "--target", "default");
    expect(masked.stdout).not.toContain("reviewer.view@contoso.example");
    const shown = await run("plan", "--target", "default", "--show-personal");
    expect(shown.stdout).toContain(`"${live}" → "reviewer.view@contoso.example"`);
    const synced = JSON.parse((await run("sync", "--target", "default", "--json", "--show-personal")).stdout);
    expect(synced.changes).toContainEqual({ field: "PrimaryContact_Email", from: live, to: "reviewer.view@contoso.example" });
    const history = await run("history", "--target", "default", "--limit", "1", "--show-personal");
    expect(history.stdout).toContain(`PrimaryContact_Email: "${live}"`);
    expect((await run("history", "--target", "default", "--limit", "1", "--json")).stdout).not.toContain(live);
    for (const r of [shown, masked]) expect(r.stderr).not.toContain("reviewer.view@contoso.example");
  });
});

describe("the write-time guard and the preview", () => {
  const csv = (n: number, email: (i: number) => string, from = 0) => ["CustomerId,Email", ...Array.from({ length: n }, (_, i) => `${id(from + i)},${email(from + i)}`)].join("\n");

  it("writes 25 targets without --yes; 26 print the summary, write nothing and exit 2; --yes writes them", async () => {
    const first = await run("desired", "import", "--file", write("g25.csv", csv(25, (i) => `ap${i}@fabrikam.example`)));
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("changes the desired state of 25 targets (25 new, 0 changed)");
    const refused = await run("desired", "import", "--file", write("g26.csv", csv(26, (i) => `new${i}@fabrikam.example`)));
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/26 targets \(1 new, 25 changed\)/);
    expect(refused.stdout).toMatch(/Email\s+25 values changed; starts being managed on 1 target/);
    expect(refused.stdout).toMatch(/Nothing was written: it changes the desired state of 26 targets, more than --max-targets 25/);
    expect(refused.stdout).not.toMatch(/new\d+@fabrikam/);
    expect(refused.stdout).toContain('"a***@***" -> "n***@***"');
    expect((await h.engine().desired.get(`customer-${id(0)}`))?.properties.Email).toBe("ap0@fabrikam.example");
    expect(await h.engine().desired.get(`customer-${id(25)}`)).toBeUndefined();
    const yes = await run("desired", "import", "--file", write("g26.csv", csv(26, (i) => `new${i}@fabrikam.example`)), "--yes", "--reason", "new AP mailbox");
    expect(yes.code).toBe(0);
    expect((await h.engine().desired.get(`customer-${id(25)}`))?.properties.Email).toBe("new25@fabrikam.example");
  });

  it("a replacing import that drops fields says so in words and needs --yes; --merge keeps the other fields; --dry-run writes nothing at any size", async () => {
    const full = ["CustomerId,Email,DefaultAddress_City,FirstName", ...[0, 1, 2].map((i) => `${id(i)},ap${i}@fabrikam.example,Seattle,Ann`)].join("\n");
    expect((await run("desired", "import", "--file", write("full.csv", full), "--yes")).code).toBe(0);
    const narrow = ["CustomerId,Email", ...[0, 1, 2].map((i) => `${id(i)},x${i}@fabrikam.example`)].join("\n");
    const dropped = await run("desired", "import", "--file", write("narrow.csv", narrow));
    expect(dropped.code).toBe(2);
    expect(dropped.stdout).toContain("2 fields of 3 targets would no longer be managed");
    expect(dropped.stdout).toMatch(/DefaultAddress_City\s+STOPS being managed on 3 targets/);
    expect((await h.engine().desired.get(`customer-${id(0)}`))?.properties.DefaultAddress_City).toBe("Seattle");

    const dry = await run("desired", "import", "--file", write("narrow.csv", narrow), "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("2 fields of 3 targets would no longer be managed");
    expect(dry.stdout).toContain("Dry run: nothing written.");
    expect((await h.engine().desired.get(`customer-${id(0)}`))?.properties.Email).toBe("ap0@fabrikam.example");

    const merged = await run("desired", "import", "--file", write("narrow.csv", narrow), "--merge");
    expect(merged.code).toBe(0);
    expect(merged.stdout).not.toContain("no longer be managed");
    const row = (await h.engine().desired.get(`customer-${id(0)}`))?.properties;
    expect(row).toMatchObject({ Email: "x0@fabrikam.example", DefaultAddress_City: "Seattle", FirstName: "Ann" });
    const entry = (await logOf(`customer-${id(0)}`))[0];
    expect(entry).toMatchObject({ Command: "desired import --merge", State: "done" });
    expect(JSON.parse(String(entry.Fields))).toEqual([{ field: "Email", before: "ap0@fabrikam.example", after: "x0@fabrikam.example" }]);
  });
});
