import { InvocationContext } from "@azure/functions";
import type { TokenCredential } from "@azure/core-auth";
import { runCli } from "../../cli/main";
import { createUserCredential } from "../../shared/auth/userCredential";
import { loadSettings, type UserAuthSettings } from "../../shared/config/settings";
import { streamLogger } from "../../shared/core/logger";
import { Engine, type EngineOptions } from "../../shared/engine/engine";
import { runSyncRequest, statusResponse } from "../../shared/host/httpApi";
import { contextLogger } from "../../shared/host/worker";
import { partnerCenterScope } from "../../shared/partnerCenter/clouds";
import { TABLES } from "../../shared/stores/tables";
import { writeDesiredRow } from "../../shared/engine/desiredWrite";
import { entityFromDocument } from "../../shared/model/desired";
import { startTelemetry, type Telemetry, withTelemetry } from "../../shared/telemetry/facade";
import { AZURITE_ACCOUNT, AZURITE_KEY } from "../../simulator/azurite";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import type { JsonObject } from "../../shared/core/json";
import { startAuthRig, type AuthRig } from "../support/authRig";
import { fastRetry, historyRows, startHarness, type Harness } from "../support/harness";
import { IngestionCapture } from "../support/ingestion";
import { startTableFaultProxy, type TableFaultProxy } from "../support/tableFaultProxy";

/**
 * The hostile-text matrix. For each source of text from outside, the text is seeded with
 * every personal value of the desired row and of the live profile and with every secret
 * the process holds, in every field the source has (description, data, codes, ids). A run
 * of each kind meets it (CLI human and --json, the HTTP API); then none of the values may
 * appear in: CLI output, HTTP responses, /api/status, history rows, log lines, and the bytes
 * the real Application Insights exporter sent to a local HTTPS ingestion endpoint.
 *
 * Real parts: Azurite (behind a relay that can answer for it), the Partner Center
 * simulator, the local token endpoint and Key Vault (the real SecretClient). Stubbed: the
 * managed identity (IMDS cannot run here). The HTTP responses are those of the API's own
 * functions (runSyncRequest, statusResponse) with an engine holding these stand-ins: the
 * exported handlers build theirs from settings, which cannot point at a local identity platform.
 */

const DESIRED = {
  PurchaseOrderNumber: "PO-HOSTILE-1",
  TaxId: "DE999888777",
  PrimaryContact: { FirstName: "Morgana", LastName: "Quillfeather", Email: "morgana.q@fabrikam.example", PhoneNumber: "+49 30 1234 5678" },
  Address: { AddressLine1: "500 Hostile Avenue", AddressLine2: "Suite 42b" },
};

function liveProfile(): JsonObject {
  const live = defaultLiveProfile() as JsonObject & { address: JsonObject };
  return { ...live, address: { ...live.address, addressLine2: "Floor 7 West", firstName: "Robinette", lastName: "Roewood", phoneNumber: "+44 20 7946 0018" } };
}

/** Every personal value of the desired row and of the live profile (the not-settable address contact included). */
const PERSONAL = [
  DESIRED.TaxId,
  DESIRED.PrimaryContact.FirstName,
  DESIRED.PrimaryContact.LastName,
  DESIRED.PrimaryContact.Email,
  DESIRED.PrimaryContact.PhoneNumber,
  DESIRED.Address.AddressLine1,
  DESIRED.Address.AddressLine2,
  "US-91-1144442",
  "Avery",
  "Example",
  "avery.former@contoso.example",
  "+1 425 555 0100",
  "1 Microsoft Way",
  "Floor 7 West",
  "Robinette",
  "Roewood",
  "+44 20 7946 0018",
];

let h: Harness;
let rig: AuthRig;
let miRig: AuthRig;
let proxy: TableFaultProxy;
let capture: IngestionCapture;
let telemetry: Telemetry;
const cells: { source: string; values: number }[] = [];

beforeAll(async () => {
  [rig, miRig] = await Promise.all([startAuthRig({ clientCredential: "secret" }), startAuthRig({ clientCredential: "managed-identity" })]);
  h = await startHarness({ acceptToken: (t) => rig.endpoint.acceptsAccessToken(t) || miRig.endpoint.acceptsAccessToken(t) });
  proxy = await startTableFaultProxy(Number(new URL(h.storage.tableEndpoint).port));
  capture = new IngestionCapture();
  await capture.start();
  const settings = loadSettings({ ...h.env, APPLICATIONINSIGHTS_CONNECTION_STRING: capture.connectionString() });
  telemetry = startTelemetry(settings, { mode: "process", report: () => {}, exporterClientOptions: { tlsOptions: { ca: capture.ca } } })!;
});

afterAll(async () => {
  await telemetry?.shutdown();
  await capture?.stop();
  await proxy?.close();
  await h?.stop();
  await Promise.all([rig?.stop(), miRig?.stop()]);
  if (process.env.HOSTILE_MATRIX_REPORT) process.stderr.write(`hostile-text matrix: ${JSON.stringify(cells)}\n`);
});

function envFor(r: AuthRig): Record<string, string> {
  return {
    ...h.env,
    ...r.env,
    PARTNER_CENTER_ACCESS_TOKEN: "",
    BILLING_SYNC_STORAGE: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=${proxy.endpoint(AZURITE_ACCOUNT)};`,
    BILLING_SYNC_VERBOSE: "1",
  };
}

/** Every secret this process holds for a rig: the tokens it was issued, the vault's values, its Key Vault token, its client credential. */
function secretsOf(r: AuthRig, credential: "secret" | "managed-identity"): string[] {
  return [...new Set([...r.endpoint.issued, ...r.vault.allValues(), r.identity.vaultToken, credential === "secret" ? r.clientSecret : r.identity.assertion])];
}

/** One text that holds every value, the way a hostile or careless service would quote them back. */
const hostile = (values: string[]) => `Refused for ${values.join(" | ")}`;

interface Source {
  name: string;
  /** Its own target, so that its history rows and telemetry are its own. */
  target: string;
  rig: () => AuthRig;
  credential: "secret" | "managed-identity";
  /** A credential whose access token already exists (so the text can quote it); undefined = a fresh one per run. */
  warm: boolean;
  /** Makes the next run meet the text. */
  arm(text: string): void;
  /** What the run must have ended with: proof the text was served and read. */
  expected: { code: string };
  /** False when the text stops the history row itself from being written. */
  recorded?: boolean;
}

const PC_BODY = (text: string) => JSON.stringify({ code: text, description: text, data: [text, { field: text }], source: "PartnerFD" });
const PC_HEADERS = (text: string) => ({ "MS-ServerId": text.slice(0, 2000), "MS-CV": text.slice(0, 2000), "MS-RequestId": text.slice(0, 2000) });

const SOURCES: Source[] = [
  {
    name: "Partner Center 4xx on GET",
    target: "hx-get-4xx",
    rig: () => rig,
    credential: "secret",
    warm: true,
    arm: (text) => h.sim.inject({ method: "GET", fault: { kind: "status", status: 400, body: PC_BODY(text), headers: PC_HEADERS(text) } }),
    expected: { code: "PartnerCenterError" },
  },
  {
    name: "Partner Center 5xx on GET",
    target: "hx-get-5xx",
    rig: () => rig,
    credential: "secret",
    warm: true,
    arm: (text) => h.sim.inject({ method: "GET", times: 10, fault: { kind: "status", status: 500, body: PC_BODY(text), headers: PC_HEADERS(text) } }),
    expected: { code: "ServiceUnavailable" },
  },
  {
    name: "Partner Center 4xx on PUT",
    target: "hx-put-4xx",
    rig: () => rig,
    credential: "secret",
    warm: true,
    arm: (text) => h.sim.inject({ method: "PUT", fault: { kind: "status", status: 400, body: PC_BODY(text), headers: PC_HEADERS(text) } }),
    expected: { code: "PartnerCenterError" },
  },
  {
    name: "Partner Center 5xx on PUT",
    target: "hx-put-5xx",
    rig: () => rig,
    credential: "secret",
    warm: true,
    arm: (text) => h.sim.inject({ method: "PUT", times: 10, fault: { kind: "status", status: 503, body: PC_BODY(text), headers: PC_HEADERS(text) } }),
    expected: { code: "ServiceUnavailable" },
  },
  {
    name: "token endpoint refusal (client secret)",
    target: "hx-token-secret",
    rig: () => rig,
    credential: "secret",
    warm: false,
    arm: (text) =>
      rig.endpoint.refuseNext({ status: 400, error: "x", body: { error: text, error_description: text, error_codes: [text], correlation_id: text, trace_id: text } }),
    expected: { code: "AuthError" },
  },
  {
    name: "token endpoint refusal (client assertion)",
    target: "hx-token-assertion",
    rig: () => miRig,
    credential: "managed-identity",
    warm: false,
    arm: (text) =>
      miRig.endpoint.refuseNext({ status: 401, error: "x", body: { error: text, error_description: text, error_codes: [text], correlation_id: text } }),
    expected: { code: "AuthError" },
  },
  {
    name: "Key Vault error",
    target: "hx-key-vault",
    rig: () => rig,
    credential: "secret",
    warm: false,
    arm: (text) => (rig.vault.failNext = { status: 500, times: 1, body: { error: { code: text, message: text, innererror: { code: text } } } }),
    expected: { code: "AuthError" },
  },
  {
    name: "Key Vault refusal (403, with an inner code)",
    target: "hx-key-vault-403",
    rig: () => rig,
    credential: "secret",
    warm: false,
    arm: (text) => (rig.vault.failNext = { status: 403, times: 1, body: { error: { code: text, message: text, innererror: { code: text } } } }),
    expected: { code: "AuthError" },
  },
  {
    name: "Table error reading the desired row",
    target: "hx-table-read",
    rig: () => rig,
    credential: "secret",
    warm: true,
    // The first read is the CLI's and the API's check that the target exists: the run's own read fails.
    arm: (text) => proxy.inject({ method: "GET", path: /BillingProfileDesired\(PartitionKey='hx-table-read'/, skip: 1, status: 500, errorCode: text.slice(0, 2000), message: text }),
    expected: { code: "StorageError" },
  },
  {
    name: "Table error writing the history row",
    target: "hx-table-write",
    rig: () => rig,
    credential: "secret",
    warm: true,
    arm: (text) => proxy.inject({ path: /BillingProfileHistory\(PartitionKey='hx-table-write'/, times: 2, status: 500, errorCode: text.slice(0, 2000), message: text }),
    expected: { code: "StorageError" },
    recorded: false,
  },
];

/** Fails naming the output and the value that leaked (values here are made up, not real secrets). */
function expectNoneIn(outputs: Record<string, string>, values: string[]): void {
  const leaks: string[] = [];
  for (const [where, text] of Object.entries(outputs)) {
    for (const value of values) if (text.includes(value)) leaks.push(`${where} holds ${JSON.stringify(value.length > 24 ? `${value.slice(0, 12)}...` : value)}`);
  }
  expect(leaks).toEqual([]);
}

function invocation(lines: string[]): InvocationContext {
  return new InvocationContext({ functionName: "sync", invocationId: "inv-hostile-text", logHandler: (level, ...args) => void lines.push(`${level} ${args.map(String).join(" ")}`) });
}

describe("no personal value and no secret from outside text reaches any output", () => {
  it.each(SOURCES.map((s) => [s.name, s] as const))("%s", async (_name, source) => {
    const target = source.target;
    const r = source.rig();
    // Faults left over by another source's retries must not answer this one's calls.
    proxy.clear();
    h.sim.clearFaults();
    const env = envFor(r);
    const settings = loadSettings(env);
    h.sim.setProfile(liveProfile());
    await h.setDesired(target, DESIRED);
    capture.clear();
    r.consent();
    let credential: TokenCredential | undefined;
    if (source.warm) {
      credential = createUserCredential(settings, settings.auth as UserAuthSettings, r.userAuth());
      await credential.getToken(partnerCenterScope(settings.apiBaseUrl));
    }
    const values = [...PERSONAL, ...secretsOf(r, source.credential)];
    const text = hostile(values);
    const engineOptions = (log?: EngineOptions["log"]): EngineOptions =>
      withTelemetry({ ...(credential ? { credential } : {}), userAuth: r.userAuth(), retry: fastRetry([]), storageRetry: { maxRetries: 0 }, ...(log ? { log } : {}) }, telemetry);

    const printed: Record<string, string> = {};
    const results: { code?: string; outcome?: string }[] = [];
    for (const json of [false, true]) {
      let out = "";
      let err = "";
      source.arm(text);
      await runCli(["sync", "--target", target, ...(json ? ["--json"] : [])], { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env, engineOptions: engineOptions() });
      printed[json ? "cli --json stdout" : "cli stdout"] = out;
      printed[json ? "cli --json stderr (log lines)" : "cli stderr (log lines)"] = err;
      if (json) results.push({ code: JSON.parse(out).error?.code, outcome: JSON.parse(out).outcome });
    }

    const lines: string[] = [];
    const log = contextLogger(invocation(lines));
    const engine = new Engine(settings, engineOptions(streamLogger((l) => void lines.push(l), { verbose: true })));
    source.arm(text);
    const response = await runSyncRequest(engine, { target }, log);
    results.push({ code: (response.jsonBody as { error?: { code: string } }).error?.code, outcome: (response.jsonBody as { outcome?: string }).outcome });
    const status = await statusResponse(engine, log);
    // The change log: a write that drops and changes every personal value, then what
    // `desired log` prints of it (the table itself keeps values unmasked, as history does).
    const before = entityFromDocument(target, DESIRED);
    await writeDesiredRow(engine, { target, before: { target, properties: before, etag: (await engine.desired.get(target))!.etag }, after: { PurchaseOrderNumber: "PO-HOSTILE-2" } }, { actor: { name: "ops@host", verified: false }, via: "cli", command: "desired set", reason: "matrix", onEvent: engine.deps.onEvent });
    for (const json of [false, true]) {
      let out = "";
      await runCli(["desired", "log", "--target", target, ...(json ? ["--json"] : [])], { stdout: (t) => void (out += t), stderr: (t) => void (out += t), env, engineOptions: engineOptions() });
      expect(out).toContain("PO-HOSTILE-2");
      printed[json ? "desired log --json" : "desired log"] = out;
    }
    await h.setDesired(target, DESIRED);
    expect(await telemetry.flush()).toBe(true);

    // History rows keep ProfileBefore unmasked on purpose (what restore puts back); every other column is checked.
    // The history row's two designated unmasked copies (what restore and the audit report read): a PUT that may have landed keeps them.
    const rows = (await historyRows(h, target)).map((row) => Object.fromEntries(Object.entries(row).filter(([k]) => !/^(ProfileBefore\d*|ValuesSent)$/.test(k))));
    expectNoneIn(
      {
        ...printed,
        "HTTP response": JSON.stringify(response),
        "/api/status": JSON.stringify(status),
        "history rows": JSON.stringify(rows),
        "invocation log lines": lines.join("\n"),
        "telemetry bytes": capture.bytes,
      },
      values,
    );
    cells.push({ source: source.name, values: values.length });

    // Not vacuous: each run met the text and failed on it, and telemetry carried the runs.
    for (const result of results) expect(result.code).toBe(source.expected.code);
    expect(rows.length > 0).toBe(source.recorded ?? true);
    expect(capture.envelopes().filter((e) => e.data.baseData.properties?.target === target).length).toBeGreaterThan(0);
  });

  it("Partner Center's text is shown, masked, once the run has read the profile (a refused PUT); withheld before (a refused GET)", async () => {
    const put = (await historyRows(h, "hx-put-4xx"))[0];
    const get = (await historyRows(h, "hx-get-4xx"))[0];
    // "Morgana" -> "M***": the description is there, every value in it masked.
    expect(String(put.ErrorMessage)).toMatch(/^Partner Center answered 400 to PUT \/v1\/profiles\/billing \(Refused for D\*\*\* \| M\*\*\* \| Q\*\*\* \| m\*\*\*@\*\*\* \| \+\*\*\* \|/);
    expect(String(get.ErrorMessage)).toBe("Partner Center answered 400 to GET /v1/profiles/billing.");
    expect(cells.length).toBe(SOURCES.length);
    expect(PERSONAL.length).toBe(17);
  });
});

describe("a table relay that answers for Azurite (the matrix's Table source) is a faithful stand-in", () => {
  it("lets every other request through to Azurite", async () => {
    const engine = new Engine(loadSettings(envFor(rig)), { storageRetry: { maxRetries: 0 } });
    expect(await engine.listTargets()).toEqual(expect.arrayContaining(["hx-get-4xx"]));
    expect((await h.rawRows(TABLES.desired)).length).toBeGreaterThan(0);
  });
});
