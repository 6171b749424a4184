import { randomBytes } from "node:crypto";
import { startAzurite } from "../simulator/azurite";
import { PartnerCenterSimulator } from "../simulator/server";
import { Engine } from "../shared/engine";
import { DEFAULT_TARGET, entityFromDocument, withoutManaged } from "../shared/model";
import { type JsonObject, parseJsonText, streamLogger, toJsonText } from "../shared/core";
import { loadSettings } from "../shared/config";
import type { CliIo } from "./io";
import { renderRun } from "./views";

/** The desired settings of the demo: a new PO number and billing contact e-mail, the city kept. */
export const DEMO_DESIRED = {
  PurchaseOrderNumber: "PO-2026-10001",
  PrimaryContact: { Email: "billing@contoso.example", FirstName: "Avery" },
  Address: { City: "Redmond" },
  Mode: "enforce",
};

/**
 * The main job end to end on this machine: Azurite (Table Storage, in memory) and the
 * Partner Center simulator, seeded with a profile that has drifted from the desired row.
 */
export async function runDemo(io: CliIo): Promise<number> {
  const color = io.color ?? false;
  const say = (text: string) => io.stdout(`${text}\n`);
  const storage = await startAzurite();
  const token = randomBytes(24).toString("base64url");
  const simulator = new PartnerCenterSimulator({ token });
  try {
    const url = await simulator.start();
    say(`Table Storage: Azurite (in memory) at ${storage.tableEndpoint}`);
    say(`Partner Center: simulator at ${url}, seeded with a profile whose PO number and billing e-mail have drifted\n`);
    const settings = loadSettings({
      PARTNER_CENTER_BASE_URL: url,
      PARTNER_CENTER_AUTH: "static",
      PARTNER_CENTER_ACCESS_TOKEN: token,
      BILLING_SYNC_STORAGE: storage.connectionString,
    });
    const engine = new Engine(settings, { log: streamLogger(io.stderr) });
    await engine.desired.upsert(DEFAULT_TARGET, entityFromDocument(DEFAULT_TARGET, DEMO_DESIRED));
    say(`Desired state of "${DEFAULT_TARGET}": ${JSON.stringify(DEMO_DESIRED)}\n`);

    const before = simulator.getProfile();
    say("$ billing-sync plan");
    const plan = await engine.syncTarget({ target: DEFAULT_TARGET, trigger: "cli", dryRun: true });
    io.stdout(renderRun(plan, { color }));
    say("\n$ billing-sync sync");
    const sync = await engine.syncTarget({ target: DEFAULT_TARGET, trigger: "cli" });
    io.stdout(renderRun(sync, { color }));
    say("\n$ billing-sync plan");
    const after = await engine.syncTarget({ target: DEFAULT_TARGET, trigger: "cli", dryRun: true });
    io.stdout(renderRun(after, { color }));

    say(`\nCalls the simulator received: ${simulator.count("GET")} GET, ${simulator.count("PUT")} PUT.`);
    const put = simulator.requests.find((r) => r.method === "PUT");
    let untouched = false;
    if (put) {
      say(`The PUT carried MS-CorrelationId ${put.headers["ms-correlationid"]} and MS-RequestId ${put.headers["ms-requestid"]}.`);
      untouched = toJsonText(withoutManaged(parseJsonText(put.body, { maxDepth: 64 }) as JsonObject)) === toJsonText(withoutManaged(before));
      say(
        untouched
          ? "Every field the desired state does not name (company name, billing day, profileType, links, ETag) went back exactly as read."
          : "The PUT changed a field the desired state does not name: this is a bug, please report it.",
      );
    }
    const history = await engine.history.list(DEFAULT_TARGET);
    say(`History rows for "${DEFAULT_TARGET}": ${history.length} (${history.map((h) => h.outcome).join(", ")}).`);
    const ok = plan.outcome === "drift" && sync.outcome === "corrected" && after.outcome === "in-sync" && untouched;
    say(ok ? "\nDemo finished: drift found, corrected with one PUT, and in sync afterwards." : "\nDemo did not go as expected.");
    return ok ? 0 : 1;
  } finally {
    await simulator.stop();
    await storage.stop();
  }
}
