import { randomBytes } from "node:crypto";
import { PartnerCenterSimulator } from "../simulator/server";
import type { CliIo } from "./io";

/** `billing-sync simulator`: the Partner Center simulator alone, until the process is stopped. */
export async function runSimulator(port: number, token: string | undefined, io: CliIo): Promise<PartnerCenterSimulator> {
  const accepted = token ?? randomBytes(24).toString("base64url");
  const simulator = new PartnerCenterSimulator({ token: accepted });
  const url = await simulator.start(port);
  io.stdout(
    [
      `Partner Center simulator listening on ${url}`,
      "Point the engine at it:",
      `  export PARTNER_CENTER_BASE_URL=${url} PARTNER_CENTER_AUTH=static PARTNER_CENTER_ACCESS_TOKEN=<the token>`,
      token ? "  (the token you passed with --token)" : `  token: ${accepted}  (random, accepted by this simulator only)`,
      "Drive it: GET/PUT /_simulator/profile, POST /_simulator/faults {method?, times?, fault}, GET /_simulator/requests.",
      "Stop with Ctrl+C.",
      "",
    ].join("\n"),
  );
  return simulator;
}
