import { InvocationContext, type Timer } from "@azure/functions";
import { QueueServiceClient } from "@azure/storage-queue";
import { billingProfileSyncQueue } from "../../functions/billingProfileSyncQueue";
import { billingProfileSyncTimer } from "../../functions/billingProfileSyncTimer";
import { TARGET_QUEUE } from "../../shared/stores/targetQueue";
import { TABLES } from "../../shared/stores/tables";
import { CUSTOMER_GONE_EVENT, SUSPENSION_COMMAND } from "../../shared/engine/departures";
import { writeDesiredRow } from "../../shared/engine/desiredWrite";
import { checkOutOfBand } from "../../shared/engine/outOfBand";
import { runCli } from "../../cli/main";
import { historyRows, startHarness, type Harness } from "../support/harness";

/**
 * Departed customers (issue 20): a customer profile answering 403/404 ends `gone`; three
 * in a row suspend the target when its sweep closes, with one CustomerGone event; a sweep
 * where more than 20% of the targets answer 403/404 is the partner's access: those runs
 * fail and nothing is suspended. Azurite (tables and queue) and the simulator; a customer
 * id the simulator does not know answers 404 as the service does (code 60008).
 */
let h: Harness;
const events: { name: string; dimensions: Record<string, string> }[] = [];
const engine = () => h.engine({ onEvent: (name, dimensions) => void events.push({ name, dimensions }) });
/** A customer id of the simulator's prefix beyond its customers: the service answers 404. */
const departedId = (n: number) => h.sim.customers().id(0).replace(/[0-9a-f]{12}$/, (900 + n).toString(16).padStart(12, "0"));

beforeAll(async () => {
  h = await startHarness({ customers: 10 }, { queue: true });
});
afterAll(() => h.stop());

async function clearDesired(): Promise<void> {
  const e = h.engine();
  for (const t of await e.listTargets()) await e.desired.delete(t);
}

let nextDeparted = 0;
/** Live customers and departed ones (new ids each time, so that no test sees another's history). */
async function customers(live: number, departed: number): Promise<{ live: string[]; departed: string[] }> {
  await clearDesired();
  const out = { live: [] as string[], departed: [] as string[] };
  for (let i = 0; i < live; i++) {
    const id = h.sim.customers().id(i);
    await h.setDesired(`customer-${id}`, { CustomerId: id });
    out.live.push(`customer-${id}`);
  }
  for (let i = 0; i < departed; i++) {
    const id = departedId(nextDeparted++);
    await h.setDesired(`customer-${id}`, { CustomerId: id });
    out.departed.push(`customer-${id}`);
  }
  return out;
}

describe("a customer whose profile answers 404", () => {
  it("ends gone with the service's code, not failed", async () => {
    const { departed } = await customers(1, 1);
    const run = await engine().syncTarget({ target: departed[0], trigger: "cli" });
    expect(run.outcome).toBe("gone");
    expect(run.error).toMatchObject({ status: 404, serviceCode: "60008" });
    const [row] = await historyRows(h, departed[0]);
    expect(row).toMatchObject({ Outcome: "gone", ErrorStatus: 404 });
  });

  it("a 403 from Partner Center is gone too; other failures of the same customer stay failed", async () => {
    const { live } = await customers(1, 0);
    h.sim.inject({ method: "GET", on: "customer", fault: { kind: "status", status: 403 } });
    expect(await engine().syncTarget({ target: live[0], trigger: "cli" })).toMatchObject({ outcome: "gone", error: { code: "Forbidden", status: 403 } });
    h.sim.inject({ method: "GET", on: "customer", times: 10, fault: { kind: "status", status: 500 } });
    expect((await engine().syncTarget({ target: live[0], trigger: "cli" })).outcome).toBe("failed");
    h.sim.clearFaults();
  });

  it("is suspended after 3 gone sweeps in a row, with its reason, one CustomerGone event, and listed by status", async () => {
    const { live, departed } = await customers(9, 1);
    events.length = 0;
    for (let sweep = 1; sweep <= 3; sweep++) {
      const runs = await engine().syncAll({ trigger: "cli" });
      expect(runs.find((r) => r.target === departed[0])?.outcome).toBe("gone");
      const row = await h.engine().desired.get(departed[0]);
      expect(row?.properties.Suspended === true).toBe(sweep === 3);
    }
    const row = await h.engine().desired.get(departed[0]);
    expect(row?.properties.SuspendedReason).toMatch(/^customer gone since \d{4}-\d{2}-\d{2}$/);
    expect(events.filter((e) => e.name === CUSTOMER_GONE_EVENT)).toEqual([{ name: CUSTOMER_GONE_EVENT, dimensions: expect.objectContaining({ target: departed[0] }) }]);
    // A fourth sweep: suspended, no call, no second event.
    const fourth = await engine().syncAll({ trigger: "cli" });
    expect(fourth.find((r) => r.target === departed[0])?.outcome).toBe("suspended");
    expect(events.filter((e) => e.name === CUSTOMER_GONE_EVENT)).toHaveLength(1);
    const summary = await h.engine().statusSummary();
    expect(summary.gone).toEqual([expect.objectContaining({ target: departed[0], suspended: true, reason: row?.properties.SuspendedReason })]);
    expect(summary.failed).toEqual([]);
    for (const t of live) expect((await h.engine().desired.get(t))?.properties.Suspended).not.toBe(true);
  });

  it("a plan notes gone but suspends nothing", async () => {
    const { departed } = await customers(4, 1);
    for (let i = 0; i < 3; i++) await engine().syncAll({ trigger: "cli", dryRun: true });
    expect((await h.engine().desired.get(departed[0]))?.properties.Suspended).not.toBe(true);
  });
});

describe("the suspension in the change log", () => {
  /** The departed customer's row as billing-sync wrote it (a change-log entry): what an unlogged write would be "outside" of. */
  async function loggedDeparted(): Promise<string> {
    const { departed } = await customers(9, 1);
    const e = h.engine();
    const row = await e.desired.get(departed[0]);
    await e.desired.delete(departed[0]);
    await writeDesiredRow(e, { target: departed[0], before: null, after: row!.properties }, { actor: { name: "op@host", verified: false }, via: "cli", command: "desired set" });
    return departed[0];
  }

  it("is logged like any write: via function, the app's identity, its reason; the next runs and status see no change outside billing-sync", async () => {
    const target = await loggedDeparted();
    for (let sweep = 1; sweep <= 3; sweep++) await engine().syncAll({ trigger: "http" });
    const e = h.engine();
    const row = await e.desired.get(target);
    expect(row?.properties.Suspended).toBe(true);
    const [newest] = await e.changes.list(target, { limit: 5 });
    expect(newest).toMatchObject({ kind: "write", state: "done", via: "function", command: SUSPENSION_COMMAND, reason: row?.properties.SuspendedReason, etagAfter: row?.etag });
    expect(newest.reason).toMatch(/^customer gone since \d{4}-\d{2}-\d{2}$/);
    // Who: the identity that signed in to Table Storage (a shared key here: OS user and host, unverified).
    expect(newest).toMatchObject({ actor: expect.stringMatching(/.+@.+/), verified: false });
    expect(newest.fields).toEqual(expect.arrayContaining([{ field: "Suspended", before: "false", after: "true" }, { field: "SuspendedReason", before: null, after: newest.reason }]));
    const next = await engine().syncAll({ trigger: "http" });
    expect(next.find((r) => r.target === target)).toMatchObject({ outcome: "suspended" });
    expect(next.flatMap((r) => r.warnings ?? []).join(" ")).not.toMatch(/changed outside billing-sync/);
    expect((await checkOutOfBand(e, row!, "block")).found).toBe(false);
    expect(JSON.stringify(await e.targetStatus(target))).not.toMatch(/outside/i);
    expect((await e.changes.list(target, { limit: 10 })).map((x) => x.kind)).toEqual(["write", "write"]);
  });

  it("an untargeted CLI sync that closes the sweep logs it via cli", async () => {
    const target = await loggedDeparted();
    for (let sweep = 1; sweep <= 3; sweep++) {
      await runCli(["sync", "--quiet"], { stdout: () => undefined, stderr: () => undefined, env: h.env });
    }
    const [newest] = await h.engine().changes.list(target, { limit: 5 });
    expect(newest).toMatchObject({ kind: "write", state: "done", via: "cli", command: SUSPENSION_COMMAND, reason: expect.stringMatching(/^customer gone since /) });
  });
});

describe("more than 20% of a sweep answering 403/404", () => {
  it("is the partner's access: the runs beyond a fifth fail as before, and three such sweeps suspend nothing", async () => {
    const { departed } = await customers(6, 4);
    events.length = 0;
    for (let sweep = 0; sweep < 3; sweep++) {
      const runs = await engine().syncAll({ trigger: "cli" });
      const outcomes = runs.filter((r) => departed.includes(r.target)).map((r) => r.outcome);
      // 10 targets: up to 2 departures are customers leaving; the 3rd and 4th are access.
      expect(outcomes.filter((o) => o === "gone")).toHaveLength(2);
      expect(outcomes.filter((o) => o === "failed")).toHaveLength(2);
    }
    for (const t of departed) expect((await h.engine().desired.get(t))?.properties.Suspended).not.toBe(true);
    expect(events).toEqual([]);
  });
});

describe("a queue sweep", () => {
  const context = () => new InvocationContext({ functionName: "test", invocationId: "inv" });
  const timer = { isPastDue: false, scheduleStatus: { last: "", next: "", lastUpdated: "" } } as Timer;
  const queue = () => QueueServiceClient.fromConnectionString(h.storage.connectionString).getQueueClient(TARGET_QUEUE);

  /** The timer fans out; every message is run as the queue trigger would run it. */
  async function timerSweep(): Promise<void> {
    await billingProfileSyncTimer(timer, context());
    for (;;) {
      const { receivedMessageItems } = await queue().receiveMessages({ numberOfMessages: 32 });
      if (receivedMessageItems.length === 0) {
        // Spread at the budget's pace: some become visible in a second or two.
        if ((await queue().getProperties()).approximateMessagesCount === 0) break;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      for (const m of receivedMessageItems) {
        await billingProfileSyncQueue(JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")), context()).catch(() => undefined);
        await queue().deleteMessage(m.messageId, m.popReceipt);
      }
    }
  }

  it("counts departures across workers in the leases table and is judged at a later fan-out", async () => {
    h.useProcessEnv({ AzureWebJobsStorage: h.storage.connectionString });
    await queue().createIfNotExists();
    await queue().clearMessages();
    const { departed } = await customers(9, 1);
    for (let i = 0; i < 3; i++) await timerSweep();
    const tallies = (await h.rawRows(TABLES.leases)).filter((r) => String(r.partitionKey).startsWith("sweep|"));
    // Three sweeps open: each a header and the one departed customer it saw.
    expect(tallies.filter((r) => r.rowKey === "~sweep")).toHaveLength(3);
    expect(tallies.filter((r) => r.rowKey === departed[0])).toHaveLength(3);
    expect((await h.engine().desired.get(departed[0]))?.properties.Suspended).not.toBe(true);
    // The sweeps' time is over (their spread and 30 minutes): the next fan-out closes them.
    await h.engine().departures.closeDue(new Date(Date.now() + 2 * 60 * 60 * 1000));
    expect((await h.engine().desired.get(departed[0]))?.properties).toMatchObject({ Suspended: true, SuspendedReason: expect.stringMatching(/^customer gone since /) });
    // The fan-out closed it: logged via function.
    expect((await h.engine().changes.list(departed[0], { limit: 1 }))[0]).toMatchObject({ via: "function", command: "departed-customer suspension" });
    expect((await h.rawRows(TABLES.leases)).filter((r) => String(r.partitionKey).startsWith("sweep|"))).toEqual([]);
    // Lease listings do not see the tallies.
    expect(await h.engine().leases.listHeld()).toEqual([]);
  });
});
