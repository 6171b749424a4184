import { randomBytes } from "node:crypto";
import { startAzurite } from "../simulator/azurite";
import { PartnerCenterSimulator } from "../simulator/server";
import { Engine } from "../shared/engine";
import { customerBillingProfile, DEFAULT_TARGET, entityFromDocument, partnerBillingProfile, type RunResult, withoutManaged } from "../shared/model";
import { type JsonObject, parseJsonText, streamLogger, toJsonText } from "../shared/core";
import { loadSettings } from "../shared/config";
import type { CliIo } from "./io";
import { renderRuns } from "./views";

/** The desired settings of the demo: a new PO number and billing contact e-mail, the city kept. */
export const DEMO_DESIRED = {
  PurchaseOrderNumber: "PO-2026-10001",
  PrimaryContact: { Email: "billing@contoso.example", FirstName: "Avery" },
  Address: { City: "Redmond" },
  Mode: "enforce",
};

/** A customer's billing contact, as the partner's CRM has it; the simulator's customer 1 still has the old one. */
export const DEMO_CUSTOMER_DESIRED = {
  FirstName: "Robin",
  Email: "accounts.payable@customer1.example",
  DefaultAddress: { City: "Redmond" },
  Mode: "enforce",
};

/**
 * The main job end to end on this machine: Azurite (Table Storage, in memory) and the
 * Partner Center simulator, seeded with a partner profile and a customer's billing profile
 * that have both drifted from their desired rows.
 */
export async function runDemo(io: CliIo): Promise<number> {
  const color = io.color ?? false;
  const say = (text: string) => io.stdout(`${text}\n`);
  const storage = await startAzurite();
  const token = randomBytes(24).toString("base64url");
  const simulator = new PartnerCenterSimulator({ token, customers: 3 });
  try {
    const url = await simulator.start();
    const customerId = simulator.customers().id(1);
    const customerTarget = customerBillingProfile.defaultTarget(customerId);
    say(`Table Storage: Azurite (in memory) at ${storage.tableEndpoint}`);
    say(`Partner Center: simulator at ${url}, seeded with a partner profile whose PO number and billing e-mail have drifted,`);
    say(`and 3 customers; the billing contact of Customer 1 Ltd (${customerId}) is not the one the CRM has\n`);
    const settings = loadSettings({
      PARTNER_CENTER_BASE_URL: url,
      PARTNER_CENTER_AUTH: "static",
      PARTNER_CENTER_ACCESS_TOKEN: token,
      BILLING_SYNC_STORAGE: storage.connectionString,
    });
    const engine = new Engine(settings, { log: streamLogger(io.stderr) });
    const customerDoc = { CustomerId: customerId, ...DEMO_CUSTOMER_DESIRED };
    await engine.desired.upsert(DEFAULT_TARGET, entityFromDocument(DEFAULT_TARGET, DEMO_DESIRED));
    await engine.desired.upsert(customerTarget, entityFromDocument(customerTarget, customerDoc));
    say(`Desired state of "${DEFAULT_TARGET}" (the partner billing profile): ${JSON.stringify(DEMO_DESIRED)}`);
    say(`Desired state of "${customerTarget}" (a customer billing profile): ${JSON.stringify(customerDoc)}\n`);

    const before = simulator.getProfile();
    const customerBefore = simulator.customers().profile(1);
    say("$ billing-sync plan");
    const plan = await engine.syncAll({ trigger: "cli", dryRun: true });
    io.stdout(renderRuns(plan, { color }));
    say("\n$ billing-sync sync");
    const sync = await engine.syncAll({ trigger: "cli" });
    io.stdout(renderRuns(sync, { color }));
    say("\n$ billing-sync plan");
    const after = await engine.syncAll({ trigger: "cli", dryRun: true });
    io.stdout(renderRuns(after, { color }));

    say(`\nCalls the simulator received: ${simulator.count("GET")} GET, ${simulator.count("PUT")} PUT.`);
    const puts = simulator.requests.filter((r) => r.method === "PUT");
    const partnerPut = puts.find((r) => r.path === partnerBillingProfile.path(undefined));
    const customerPut = puts.find((r) => r.path === customerBillingProfile.path(customerId));
    let untouched = false;
    if (partnerPut && customerPut) {
      say(`The partner profile's PUT carried MS-CorrelationId ${partnerPut.headers["ms-correlationid"]} and MS-RequestId ${partnerPut.headers["ms-requestid"]}.`);
      say(`The customer's PUT went to ${customerPut.path} with the ETag in its body and in If-Match: ${customerPut.headers["if-match"]}.`);
      const asSent = (body: string) => parseJsonText(body, { maxDepth: 64 }) as JsonObject;
      untouched =
        toJsonText(withoutManaged(asSent(partnerPut.body))) === toJsonText(withoutManaged(before)) &&
        toJsonText(withoutManaged(asSent(customerPut.body), { kind: customerBillingProfile })) === toJsonText(withoutManaged(customerBefore, { kind: customerBillingProfile }));
      say(
        untouched
          ? "In both PUTs every field the desired state does not name (company name, billing day, country, links, ETag) went back exactly as read."
          : "A PUT changed a field the desired state does not name: this is a bug, please report it.",
      );
    }
    for (const target of [DEFAULT_TARGET, customerTarget]) {
      const history = await engine.history.list(target);
      say(`History rows for "${target}": ${history.length} (${history.map((h) => h.outcome).join(", ")}).`);
    }
    const outcomes = (runs: RunResult[]) => runs.map((r) => r.outcome).join(",");
    const ok = outcomes(plan) === "drift,drift" && outcomes(sync) === "corrected,corrected" && outcomes(after) === "in-sync,in-sync" && untouched;
    say(ok ? "\nDemo finished: drift found in the partner's and a customer's billing profile, each corrected with one PUT, and in sync afterwards." : "\nDemo did not go as expected.");
    return ok ? 0 : 1;
  } finally {
    await simulator.stop();
    await storage.stop();
  }
}
