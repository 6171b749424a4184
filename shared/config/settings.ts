import { type CloudName, CLOUDS } from "../partnerCenter";
import { type ChangeControlSettings, parseChangeControl } from "./changeControl";
import { GUID, KEY_VAULT_SECRET_NAME, SyncError } from "../core";
import { parseRetention, type RetentionSettings } from "./retention";

/**
 * Where the queue is: the host's own storage (AzureWebJobsStorage), so that the queue the
 * timer writes is the queue the trigger reads. Identity-based in Azure
 * (AzureWebJobsStorage__queueServiceUri), a connection string locally.
 */
export type QueueSettings =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "endpoint"; queueServiceUri: string; clientId?: string };

/**
 * Every setting the app reads, in one place. `production: true` marks the ones a
 * deployment to Azure must set; the infra test derives the Bicep app settings it checks
 * from this list, so a new setting without infra fails a test.
 */
export interface SettingSpec {
  name: string;
  /** One line of Markdown: docs/settings.md is rendered from this list (`npm run docs`). */
  meaning: string;
  production: boolean;
  default?: string;
}

export const SETTING_SPECS: readonly SettingSpec[] = [
  {
    name: "PARTNER_CENTER_CLOUD",
    meaning: "`global`, `china` or `usgov`: picks the API base URL and authority (`germany` is refused: that cloud closed in 2021)",
    production: true,
    default: "global",
  },
  {
    name: "PARTNER_CENTER_BASE_URL",
    meaning: "overrides the API base URL, which otherwise comes from the cloud (the simulator, tests); `http` only on localhost",
    production: false,
  },
  { name: "PARTNER_CENTER_AUTH", meaning: "`user` (secure application model, production) or `static`", production: true, default: "user" },
  { name: "PARTNER_CENTER_ACCESS_TOKEN", meaning: "the bearer token when `PARTNER_CENTER_AUTH=static`", production: false },
  {
    name: "BILLING_SYNC_STORAGE",
    meaning:
      "required: a connection string (`UseDevelopmentStorage=true` for Azurite) or a table endpoint URL (then managed identity / DefaultAzureCredential); either way `http` only on localhost",
    production: true,
  },
  { name: "BILLING_SYNC_SCHEDULE", meaning: "NCRONTAB schedule of the timer (six fields)", production: true, default: "0 0 * * * *" },
  {
    name: "BILLING_SYNC_HISTORY_RETENTION_DAYS",
    meaning: "days the history rows of runs that did or tried something (and the desired-state change log, but for each target's last write) are kept; older ones are purged daily. A run older than this cannot be restored",
    production: false,
    default: "400",
  },
  { name: "BILLING_SYNC_CHECK_RETENTION_DAYS", meaning: "days a target's compacted in-sync check rows (one a UTC day) are kept; older ones are purged daily", production: false, default: "35" },
  {
    name: "PARTNER_CENTER_CALLS_PER_MINUTE",
    meaning:
      "the budget of Partner Center calls per minute per partner account, for the process and for the whole Function App (the timer's spread of queue messages): a share of the documented 500, left to the partner's other tools. Calls never go faster; after 429s (honouring Retry-After) they slow down below it and return to it within a minute. `auto` = the default; a partner who knows their tenant's limit may set more",
    production: false,
    default: "250",
  },
  {
    name: "BILLING_SYNC_REQUIRE_REASON",
    meaning: "`true`: a command that writes desired state refuses to without `--reason` (see [change control](change-control.md))",
    production: false,
    default: "false",
  },
  {
    name: "BILLING_SYNC_OUT_OF_BAND",
    meaning:
      "a desired row changed outside billing-sync: `warn` enforces it as it now is and says so; `block` holds the target (outcome `held`) until `billing-sync desired accept` (see [change control](change-control.md))",
    production: false,
    default: "warn",
  },
  { name: "APPLICATIONINSIGHTS_CONNECTION_STRING", meaning: "where telemetry goes; unset = no export", production: true },
  {
    name: "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    meaning:
      "Entra auth for telemetry: `Authorization=AAD;ClientId=<client id of the managed identity>` (`Authorization=AAD` alone: the system-assigned identity)",
    production: true,
  },
  {
    name: "AzureWebJobsStorage",
    meaning:
      "the host's storage as a connection string (locally); the timer's fan-out queue `billing-sync-targets` lives there. Unset, with `AzureWebJobsStorage__queueServiceUri` unset too: the timer runs the targets itself",
    production: false,
  },
  {
    name: "AzureWebJobsStorage__queueServiceUri",
    meaning: "the host's storage queue endpoint (identity based, in Azure): the timer fans out through it",
    production: true,
  },
  { name: "AzureWebJobsStorage__clientId", meaning: "client id of the managed identity used for the host's storage", production: true },
  { name: "PARTNER_CENTER_TENANT_ID", meaning: "the partner's Entra tenant id (GUID); required when `PARTNER_CENTER_AUTH=user`", production: true },
  { name: "PARTNER_CENTER_CLIENT_ID", meaning: "the app registration's client id (GUID); required when `PARTNER_CENTER_AUTH=user`", production: true },
  {
    name: "PARTNER_CENTER_KEY_VAULT_URL",
    meaning: "`https://<vault>.vault.azure.net`, holding the refresh token; required when `PARTNER_CENTER_AUTH=user`",
    production: true,
  },
  {
    name: "PARTNER_CENTER_REFRESH_TOKEN_SECRET",
    meaning: "Key Vault secret name of the refresh token",
    production: false,
    default: "partner-center-refresh-token",
  },
  {
    name: "PARTNER_CENTER_CLIENT_CREDENTIAL",
    meaning:
      "how the app proves itself to Entra: `managed-identity` (client assertion through a federated credential) or `secret` (client secret from Key Vault)",
    production: false,
    default: "managed-identity",
  },
  {
    name: "PARTNER_CENTER_CLIENT_SECRET_NAME",
    meaning: "Key Vault secret name of the client secret; only with `PARTNER_CENTER_CLIENT_CREDENTIAL=secret`",
    production: false,
    default: "partner-center-client-secret",
  },
  {
    name: "BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP",
    meaning:
      "PUTs one sweep (a timer firing with its queue runs, an untargeted `sync`) may make, across every instance; targets beyond it end `held` until `billing-sync approve`. Default: 10% of the sweep's targets, at least 10",
    production: false,
  },
  {
    name: "AZURE_CLIENT_ID",
    meaning: "client id of the app's user-assigned managed identity (Key Vault, Table Storage, the client assertion)",
    production: true,
  },
];

export type ClientCredentialKind = "managed-identity" | "secret";

/** PARTNER_CENTER_AUTH=user: the secure application model (see docs/auth.md). */
export interface UserAuthSettings {
  kind: "user";
  tenantId: string;
  clientId: string;
  keyVaultUrl: string;
  refreshTokenSecretName: string;
  clientCredential: ClientCredentialKind;
  clientSecretName: string;
  /** AZURE_CLIENT_ID, when set: the user-assigned managed identity to use. */
  managedIdentityClientId?: string;
}

export type AuthSettings = { kind: "static"; token: string } | UserAuthSettings;

export type StorageSettings =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "endpoint"; endpoint: string };

/**
 * Telemetry is optional: a telemetry setting that is wrong turns telemetry off with a
 * problem to report (once), it never stops a sync.
 */
export type TelemetrySettings =
  | { kind: "off" }
  | { kind: "on"; connectionString: string; ingestionEndpoint?: string; entra?: { clientId?: string } }
  | { kind: "invalid"; problem: string };

export interface Settings {
  cloud: CloudName;
  apiBaseUrl: string;
  authorityHost: string;
  auth: AuthSettings;
  storage: StorageSettings;
  schedule: string;
  /** The connection string when telemetry is on (see `telemetry`). */
  appInsightsConnectionString?: string;
  telemetry: TelemetrySettings;
  /** The fan-out queue; unset (CLI, local) = targets run in process. */
  queue?: QueueSettings;
  /** A partner account's budget of Partner Center calls a minute (never exceeded); undefined = DEFAULT_CALLS_PER_MINUTE. */
  callsPerMinute?: number;
  /** BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP; undefined = 10% of the sweep's targets, at least 10. */
  maxCorrectionsPerSweep?: number;
  /** Change control of the desired state (./changeControl); absent = the defaults. */
  changeControl?: ChangeControlSettings;
  /** How long history rows are kept (absent: the defaults, DEFAULT_RETENTION). */
  retention?: RetentionSettings;
}

type Env = Record<string, string | undefined>;

function bad(name: string, problem: string): SyncError {
  return new SyncError("ConfigError", `Setting ${name} ${problem}`);
}

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === "" ? undefined : value;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** Plain http is accepted only on loopback (the simulator, Azurite): a token or a profile must never cross a network in clear. */
function checkTransport(name: string, url: URL, what = "must be an https URL"): void {
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    throw bad(name, `${what} (http is allowed only for localhost), got "${url.protocol}//${url.host}"`);
  }
}

export function parseBaseUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad(name, `is not a URL: "${value}"`);
  }
  checkTransport(name, url);
  if (url.search || url.hash) throw bad(name, "must not carry a query or fragment");
  return url.toString().replace(/\/+$/, "");
}

function parseCloud(env: Env): CloudName {
  const value = (read(env, "PARTNER_CENTER_CLOUD") ?? "global").toLowerCase();
  if (value === "germany") {
    throw bad("PARTNER_CENTER_CLOUD", 'is "germany": Microsoft Cloud Germany closed on 2021-10-29; use global');
  }
  if (!(value in CLOUDS)) throw bad("PARTNER_CENTER_CLOUD", `must be one of global, china, usgov; got "${value}"`);
  return value as CloudName;
}

function requiredGuid(env: Env, name: string, what: string): string {
  const value = read(env, name);
  if (!value) throw bad(name, `is required when PARTNER_CENTER_AUTH=user: ${what}`);
  if (!GUID.test(value)) throw bad(name, `must be a GUID (${what}), got "${value}"`);
  return value.toLowerCase();
}

function secretName(env: Env, name: string, fallback: string): string {
  const value = read(env, name) ?? fallback;
  if (!KEY_VAULT_SECRET_NAME.test(value)) throw bad(name, `must be a Key Vault secret name (1-127 letters, digits and dashes), got "${value}"`);
  return value;
}

/** A vault URL is an origin: https, no path, no query. */
function parseVaultUrl(env: Env): string {
  const name = "PARTNER_CENTER_KEY_VAULT_URL";
  const value = read(env, name);
  if (!value) throw bad(name, "is required when PARTNER_CENTER_AUTH=user: the vault holding the refresh token, e.g. https://<vault>.vault.azure.net");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad(name, `is not a URL: "${value}"`);
  }
  if (url.protocol !== "https:") throw bad(name, `must be an https URL such as https://<vault>.vault.azure.net, got "${url.protocol}//${url.host}"`);
  if (url.pathname.replace(/\/+$/, "") !== "" || url.search || url.hash || url.username || url.password) {
    throw bad(name, `must be the vault URL alone (https://<vault>.vault.azure.net), without a path or query; got "${value}"`);
  }
  return url.origin;
}

function parseUserAuth(env: Env): UserAuthSettings {
  const credential = (read(env, "PARTNER_CENTER_CLIENT_CREDENTIAL") ?? "managed-identity").toLowerCase();
  if (credential !== "managed-identity" && credential !== "secret") {
    throw bad("PARTNER_CENTER_CLIENT_CREDENTIAL", `must be managed-identity or secret; got "${credential}"`);
  }
  const managedIdentityClientId = read(env, "AZURE_CLIENT_ID");
  if (managedIdentityClientId !== undefined && !GUID.test(managedIdentityClientId)) {
    throw bad("AZURE_CLIENT_ID", `must be the managed identity's client id (a GUID), got "${managedIdentityClientId}"`);
  }
  return {
    kind: "user",
    tenantId: requiredGuid(env, "PARTNER_CENTER_TENANT_ID", "the partner's Entra tenant id"),
    clientId: requiredGuid(env, "PARTNER_CENTER_CLIENT_ID", "the app registration's client id"),
    keyVaultUrl: parseVaultUrl(env),
    refreshTokenSecretName: secretName(env, "PARTNER_CENTER_REFRESH_TOKEN_SECRET", "partner-center-refresh-token"),
    clientCredential: credential,
    clientSecretName: secretName(env, "PARTNER_CENTER_CLIENT_SECRET_NAME", "partner-center-client-secret"),
    managedIdentityClientId: managedIdentityClientId?.toLowerCase(),
  };
}

function parseAuth(env: Env): AuthSettings {
  const kind = (read(env, "PARTNER_CENTER_AUTH") ?? "user").toLowerCase();
  if (kind === "static") {
    const token = read(env, "PARTNER_CENTER_ACCESS_TOKEN");
    if (!token) throw bad("PARTNER_CENTER_ACCESS_TOKEN", "is required when PARTNER_CENTER_AUTH=static");
    if (/\s/.test(token)) throw bad("PARTNER_CENTER_ACCESS_TOKEN", "must be the bare token, without spaces or a 'Bearer' prefix");
    return { kind: "static", token };
  }
  if (kind === "user") return parseUserAuth(env);
  throw bad("PARTNER_CENTER_AUTH", `must be user or static; got "${kind}"`);
}

/**
 * The table endpoint a connection string leads to, held to the same rule as an endpoint
 * URL: TableEndpoint if given, else DefaultEndpointsProtocol with the account's host
 * (never loopback); UseDevelopmentStorage=true is Azurite on loopback. Messages name the
 * key and the host, never the string (it holds the account key).
 */
function checkStorageConnectionString(name: string, value: string): void {
  const pairs = new Map<string, string>();
  for (const part of value.split(";")) {
    const at = part.indexOf("=");
    if (at > 0) pairs.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const endpoint = pairs.get("tableendpoint");
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw bad(name, "has a TableEndpoint that is not a URL");
    }
    return checkTransport(name, url, "has a TableEndpoint that must be https");
  }
  if (pairs.get("usedevelopmentstorage")?.toLowerCase() === "true") return;
  if (pairs.get("defaultendpointsprotocol")?.toLowerCase() === "http") {
    throw bad(name, "says DefaultEndpointsProtocol=http: Table Storage must be reached over https (http is allowed only for a localhost TableEndpoint)");
  }
}

export function parseStorage(env: Env): StorageSettings {
  const value = read(env, "BILLING_SYNC_STORAGE");
  if (!value) {
    throw bad("BILLING_SYNC_STORAGE", "is required: a connection string (UseDevelopmentStorage=true for Azurite) or a table endpoint URL");
  }
  if (/^https?:\/\//i.test(value)) {
    return { kind: "endpoint", endpoint: parseBaseUrl("BILLING_SYNC_STORAGE", value) };
  }
  if (!/=/.test(value)) {
    throw bad("BILLING_SYNC_STORAGE", "is neither a connection string (key=value;...) nor an https table endpoint URL");
  }
  checkStorageConnectionString("BILLING_SYNC_STORAGE", value);
  return { kind: "connectionString", connectionString: value };
}

/** NCRONTAB as the Functions host reads it: six fields, seconds first. */
export function parseSchedule(value: string): string {
  const fields = value.trim().split(/\s+/);
  if (fields.length !== 6 || !fields.every((f) => /^[\d*/,\-A-Za-z]+$/.test(f))) {
    throw bad("BILLING_SYNC_SCHEDULE", `must be an NCRONTAB expression with six fields (sec min hour day month weekday); got "${value}"`);
  }
  return fields.join(" ");
}

/** `key=value;key=value`, keys case-insensitive; undefined when a part is not key=value. */
function keyValues(value: string): Map<string, string> | undefined {
  const pairs = new Map<string, string>();
  for (const part of value.split(";").map((p) => p.trim()).filter(Boolean)) {
    const pieces = part.split("=");
    if (pieces.length !== 2 || pieces[0].trim() === "") return undefined;
    pairs.set(pieces[0].trim().toLowerCase(), pieces[1].trim());
  }
  return pairs;
}

// Messages name keys, never values: the connection string is not a secret, but it stays out of logs anyway.
function parseConnectionString(value: string): { connectionString: string; ingestionEndpoint?: string } | string {
  const name = "APPLICATIONINSIGHTS_CONNECTION_STRING";
  const pairs = keyValues(value);
  if (!pairs) return `Setting ${name} is not a connection string (key=value;key=value); copy it from the Application Insights resource`;
  const ikey = pairs.get("instrumentationkey");
  if (ikey === undefined) return `Setting ${name} has no InstrumentationKey=...; copy it from the Application Insights resource`;
  if (!GUID.test(ikey)) return `Setting ${name} has an InstrumentationKey that is not a GUID`;
  const endpoint = pairs.get("ingestionendpoint");
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    // http is accepted because the exporter itself upgrades it to https.
    if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) return `Setting ${name} has an IngestionEndpoint that is not an https URL (copy the whole connection string)`;
  }
  // Rebuilt trimmed, with the key in lower case: the exporter accepts no other (a GUID is the same in either case).
  pairs.set("instrumentationkey", ikey.toLowerCase());
  return { connectionString: [...pairs].map(([k, v]) => `${k}=${v}`).join(";"), ingestionEndpoint: endpoint };
}

/** `Authorization=AAD` (system-assigned identity) or `Authorization=AAD;ClientId=<GUID>` (user-assigned). */
export function parseAuthenticationString(value: string): { clientId?: string } | string {
  const name = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";
  const expected = "expected Authorization=AAD;ClientId=<client id of the managed identity> (or Authorization=AAD for the system-assigned identity)";
  const pairs = keyValues(value);
  if (!pairs) return `Setting ${name} is not key=value;key=value: ${expected}`;
  const unknown = [...pairs.keys()].filter((k) => k !== "authorization" && k !== "clientid");
  if (unknown.length > 0) return `Setting ${name} has unknown key(s) ${unknown.join(", ")}: ${expected}`;
  if (pairs.get("authorization")?.toUpperCase() !== "AAD") return `Setting ${name} must say Authorization=AAD: ${expected}`;
  const clientId = pairs.get("clientid");
  if (clientId !== undefined && !GUID.test(clientId)) return `Setting ${name} has a ClientId that is not a GUID: ${expected}`;
  return clientId === undefined ? {} : { clientId };
}

function parseTelemetry(env: Env): TelemetrySettings {
  const connection = read(env, "APPLICATIONINSIGHTS_CONNECTION_STRING");
  if (connection === undefined) return { kind: "off" };
  const parsed = parseConnectionString(connection);
  if (typeof parsed === "string") return { kind: "invalid", problem: parsed };
  const auth = read(env, "APPLICATIONINSIGHTS_AUTHENTICATION_STRING");
  if (auth === undefined) return { kind: "on", ...parsed };
  const entra = parseAuthenticationString(auth);
  if (typeof entra === "string") return { kind: "invalid", problem: entra };
  return { kind: "on", ...parsed, entra };
}

/** Half the documented 500 a minute: the other half is left to the partner's other tools (ordering, billing, PSA). */
export const DEFAULT_CALLS_PER_MINUTE = 250;

function parseCallsPerMinute(env: Env): number {
  const name = "PARTNER_CENTER_CALLS_PER_MINUTE";
  const value = read(env, name);
  if (value === undefined || value.toLowerCase() === "auto") return DEFAULT_CALLS_PER_MINUTE;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 6 || n > 600_000) throw bad(name, `must be auto or a whole number of calls per minute from 6 to 600000; got "${value}"`);
  return n;
}

function parseMaxCorrections(env: Env): number | undefined {
  const name = "BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP";
  const value = read(env, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 1_000_000) throw bad(name, `must be a whole number of PUTs per sweep from 1 to 1000000 (unset: 10% of the targets, at least 10); got "${value}"`);
  return n;
}

function parseQueue(env: Env): QueueSettings | undefined {
  const uri = read(env, "AzureWebJobsStorage__queueServiceUri");
  if (uri) return { kind: "endpoint", queueServiceUri: parseBaseUrl("AzureWebJobsStorage__queueServiceUri", uri), clientId: read(env, "AzureWebJobsStorage__clientId") };
  const connectionString = read(env, "AzureWebJobsStorage");
  if (connectionString && /=/.test(connectionString)) return { kind: "connectionString", connectionString };
  return undefined;
}

/** What `billing-sync auth login` needs: the cloud and the user-auth settings, without storage or schedule. */
export function loadUserAuthSettings(env: Env = process.env): Pick<Settings, "cloud" | "apiBaseUrl" | "authorityHost"> & { auth: UserAuthSettings } {
  const cloud = parseCloud(env);
  const override = read(env, "PARTNER_CENTER_BASE_URL");
  return {
    cloud,
    apiBaseUrl: override ? parseBaseUrl("PARTNER_CENTER_BASE_URL", override) : CLOUDS[cloud].apiBaseUrl,
    authorityHost: CLOUDS[cloud].authorityHost,
    auth: parseUserAuth(env),
  };
}

/**
 * Reads and validates every setting; throws a ConfigError naming the first bad one. The
 * telemetry settings are the exception: a bad one is returned in `telemetry` to report,
 * because telemetry must never stop a sync.
 */
export function loadSettings(env: Env = process.env): Settings {
  const cloud = parseCloud(env);
  const override = read(env, "PARTNER_CENTER_BASE_URL");
  const telemetry = parseTelemetry(env);
  return {
    cloud,
    apiBaseUrl: override ? parseBaseUrl("PARTNER_CENTER_BASE_URL", override) : CLOUDS[cloud].apiBaseUrl,
    authorityHost: CLOUDS[cloud].authorityHost,
    auth: parseAuth(env),
    storage: parseStorage(env),
    schedule: parseSchedule(read(env, "BILLING_SYNC_SCHEDULE") ?? "0 0 * * * *"),
    appInsightsConnectionString: telemetry.kind === "on" ? telemetry.connectionString : undefined,
    telemetry,
    queue: parseQueue(env),
    callsPerMinute: parseCallsPerMinute(env),
    maxCorrectionsPerSweep: parseMaxCorrections(env),
    changeControl: parseChangeControl(env),
    retention: parseRetention(env),
  };
}
