import { randomBytes } from "node:crypto";
import { PartnerCenterSimulator } from "../simulator/server";
import { SAMPLE_COUNTRY_RULES } from "../simulator/sampleCountryRules";
import type { CliIo } from "./io";

export interface SimulatorArgs {
  port: number;
  token?: string;
  /** Customers served by GET /v1/customers, each with a billing profile (docs/customers.md). */
  customers?: number;
}

/** `billing-sync simulator`: the Partner Center simulator alone, until the process is stopped. */
export async function runSimulator(args: SimulatorArgs, io: CliIo): Promise<PartnerCenterSimulator> {
  const accepted = args.token ?? randomBytes(24).toString("base64url");
  const simulator = new PartnerCenterSimulator({ token: accepted, customers: args.customers });
  for (const [iso2, body] of Object.entries(SAMPLE_COUNTRY_RULES)) simulator.setCountryRules(iso2, body);
  const url = await simulator.start(args.port);
  const customers = args.customers ?? 0;
  io.stdout(
    [
      `Partner Center simulator listening on ${url}`,
      `Serving the partner's billing profile${customers ? ` and ${customers} customer${customers === 1 ? "" : "s"} (GET /v1/customers)` : " (no customers: --customers N adds some)"}; country rules of US, ${Object.keys(SAMPLE_COUNTRY_RULES).join(", ")}.`,
      "Point the engine at it (the token is this simulator's own, accepted by nothing else):",
      `  export PARTNER_CENTER_BASE_URL=${url} PARTNER_CENTER_AUTH=static PARTNER_CENTER_ACCESS_TOKEN=${accepted}`,
      "Drive it: GET/PUT /_simulator/profile, POST /_simulator/faults {method?, times?, fault}, GET /_simulator/requests.",
      "Stop with Ctrl+C.",
      "",
    ].join("\n"),
  );
  return simulator;
}
