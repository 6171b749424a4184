import { execFile } from "node:child_process";
import { join } from "node:path";
import { runCli } from "../../cli/main";
import { Engine } from "../../shared/engine/engine";
import { streamLogger } from "../../shared/core/logger";
import type { RunResult } from "../../shared/model/runResult";
import { loadSettings } from "../../shared/config/settings";
import { expectNoSecrets, REFRESH_TOKEN_SECRET, startAuthRig, type AuthRig } from "../support/authRig";
import { fastRetry, historyRowOf, startHarness, type Harness } from "../support/harness";

/**
 * Full runs with PARTNER_CENTER_AUTH=user: Azurite, the Partner Center simulator (which
 * accepts only the access tokens the local token endpoint issued), the local token
 * endpoint and the local Key Vault reached by the real SecretClient. Only the managed
 * identity is a stub (IMDS cannot run here).
 */
const DESIRED = { PurchaseOrderNumber: "PO-AUTH-1" };

let rig: AuthRig;
let h: Harness;
const printed: string[] = [];
const results: RunResult[] = [];
const rotations: { secretName: string; secretVersion?: string; rotatedAt: Date }[] = [];
let seq = 0;

beforeAll(async () => {
  rig = await startAuthRig();
  h = await startHarness({ acceptToken: (token) => rig.endpoint.acceptsAccessToken(token) });
});

afterAll(async () => {
  try {
    // Everything captured in this file: logs, CLI output, run results, every history row.
    const rows = await h.rawRows("BillingProfileHistory");
    expectNoSecrets(
      { logs: h.output.join(""), cli: printed.join(""), results: JSON.stringify(results), history: JSON.stringify(rows), vaultRequests: JSON.stringify(rig.vault.requests) },
      [...rig.secretValues(), h.token],
    );
  } finally {
    await h.stop();
    await rig.stop();
  }
});

beforeEach(() => {
  h.resetSimulator();
  rig.endpoint.requests.length = 0;
  rig.vault.requests.length = 0;
  rig.endpoint.delayInMs = 0;
  rig.vault.forbid = {};
  rotations.length = 0;
});

const userEnv = (): Record<string, string> => ({ ...h.env, ...rig.env, PARTNER_CENTER_ACCESS_TOKEN: "" });

/** A fresh engine is a fresh process: no cached access token. */
function userEngine(): Engine {
  return new Engine(loadSettings(userEnv()), {
    log: streamLogger((l) => h.output.push(l), { verbose: true }),
    retry: fastRetry(h.waits),
    userAuth: rig.userAuth({ onRotated: (info) => rotations.push(info) }),
  });
}

async function target(): Promise<string> {
  const name = `auth${++seq}`;
  await h.setDesired(name, DESIRED);
  return name;
}

async function sync(engine: Engine, name: string, dryRun = false): Promise<RunResult> {
  const result = await engine.syncTarget({ target: name, trigger: "cli", dryRun });
  results.push(result);
  return result;
}

const historyOf = (result: RunResult) => historyRowOf(h, result);

describe("PARTNER_CENTER_AUTH=user, end to end", () => {
  it("one exchange serves many runs: the token is cached across runs and the rotated refresh token stored once", async () => {
    rig.consent();
    const engine = userEngine();
    const name = await target();
    const runs = [await sync(engine, name, true), await sync(engine, name), await sync(engine, name, true)];
    expect(runs.map((r) => r.outcome)).toEqual(["drift", "corrected", "in-sync"]);
    expect(rig.endpoint.exchanges()).toHaveLength(1);
    expect(h.sim.requests.every((r) => r.headers.authorization === "Bearer <valid>")).toBe(true);
    expect(rig.vault.writes(REFRESH_TOKEN_SECRET)).toHaveLength(1);
    expect(rotations).toHaveLength(1);
    expect(rotations[0].secretVersion).toBe(rig.vault.versions(REFRESH_TOKEN_SECRET).at(-1)!.version);
  });

  it("a target naming its own account uses that tenant's token endpoint and that Key Vault secret, and rotates that secret", async () => {
    const secretName = "contoso-eu-refresh";
    rig.vault.put(secretName, rig.endpoint.mintRefreshToken());
    const engine = userEngine();
    const own = `auth${++seq}`;
    await h.setDesired(own, { ...DESIRED, TenantId: rig.tenantId, CredentialRef: secretName });
    const run = await sync(engine, own);
    expect(run.outcome).toBe("corrected");
    expect(rig.vault.writes(secretName)).toHaveLength(1);
    expect(rig.vault.writes(REFRESH_TOKEN_SECRET)).toHaveLength(0);
    expect(rotations.map((r) => r.secretName)).toEqual([secretName]);

    const otherTenant = "11111111-2222-3333-4444-555555555555";
    const other = `auth${++seq}`;
    await h.setDesired(other, { ...DESIRED, TenantId: otherTenant, CredentialRef: secretName });
    rig.endpoint.requests.length = 0;
    const failed = await sync(engine, other);
    expect(rig.endpoint.requests.map((r) => r.path)).toEqual([`/${otherTenant}/oauth2/v2.0/token`]);
    expect(failed.outcome).toBe("failed");
    // Later tests sync every target of the default account.
    await Promise.all([own, other].map((t) => engine.desired.delete(t)));
  });

  it("concurrent runs of many targets share one exchange", async () => {
    rig.consent();
    const names = [await target(), await target(), await target(), await target(), await target()];
    rig.endpoint.delayInMs = 200;
    const engine = userEngine();
    // Dry runs: the targets share the simulator's one profile, and a plan leaves it as it is.
    const runs = await Promise.all(names.map((n) => sync(engine, n, true)));
    expect(runs.map((r) => r.outcome)).toEqual(names.map(() => "drift"));
    expect(h.sim.count("GET")).toBe(names.length);
    expect(rig.endpoint.exchanges()).toHaveLength(1);
    expect(rig.vault.writes(REFRESH_TOKEN_SECRET)).toHaveLength(1);
  });

  it("an expired refresh token: every target fails with 'consent again', in result and history, after one exchange", async () => {
    rig.consent();
    rig.endpoint.revokeAll();
    const names = [await target(), await target(), await target()];
    const engine = userEngine();
    const runs = await engine.syncAll({ trigger: "timer" });
    const ours = runs.filter((r) => names.includes(r.target));
    results.push(...runs);
    expect(ours.map((r) => r.outcome)).toEqual(["failed", "failed", "failed"]);
    for (const run of ours) {
      expect(run.error).toMatchObject({ code: "AuthError", status: 400 });
      expect(run.error?.message).toContain("has expired or was revoked (AADSTS700082");
      expect(run.error?.message).toContain("consent again with `billing-sync auth login`");
      expect(await historyOf(run)).toMatchObject({ Outcome: "failed", ErrorCode: "AuthError", ErrorMessage: run.error?.message });
    }
    expect(rig.endpoint.exchanges()).toHaveLength(1);
    expect(h.sim.count()).toBe(0);
  });

  it("the CLI shows the same: exit 1 and the message, no token", async () => {
    rig.consent();
    rig.endpoint.revokeAll();
    const name = await target();
    let stdout = "";
    let stderr = "";
    const code = await runCli(["sync", "--target", name, "--json"], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      env: userEnv(),
      engineOptions: { retry: fastRetry(h.waits), userAuth: rig.userAuth() },
    });
    printed.push(stdout, stderr);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ outcome: "failed", error: { code: "AuthError" } });
    expect(JSON.parse(stdout).error.message).toContain("consent again with `billing-sync auth login`");
  });

  it("MFA missing (401, code 900421): failed with the MFA message, one GET, no new exchange, and the next run does not loop", async () => {
    rig.consent();
    const engine = userEngine();
    const name = await target();
    h.sim.inject({ method: "GET", times: 2, fault: { kind: "status", status: 401, body: JSON.stringify({ code: 900421, description: "Multi-factor authentication is required" }) } });
    const first = await sync(engine, name);
    expect(first.outcome).toBe("failed");
    expect(first.error).toMatchObject({ code: "Unauthorized", status: 401 });
    expect(first.error?.message).toContain("MFA is missing");
    expect(first.error?.message).toContain("`billing-sync auth login`, signing in with MFA");
    expect(await historyOf(first)).toMatchObject({ Outcome: "failed", ErrorCode: "Unauthorized" });
    expect(h.sim.count()).toBe(1);

    const second = await sync(engine, name);
    expect(second.outcome).toBe("failed");
    expect(h.sim.count()).toBe(2);
    expect(rig.endpoint.exchanges()).toHaveLength(1);
  });

  it("Key Vault 403: failed, naming the vault and the role the identity lacks", async () => {
    rig.consent();
    rig.vault.forbid = { read: true };
    const name = await target();
    const result = await sync(userEngine(), name);
    expect(result.outcome).toBe("failed");
    expect(result.error).toMatchObject({ code: "AuthError", status: 403 });
    expect(result.error?.message).toContain(`Key Vault ${rig.vault.url} refused to read secret "${REFRESH_TOKEN_SECRET}"`);
    expect(result.error?.message).toContain('lacks the "Key Vault Secrets Officer" role');
    expect(await historyOf(result)).toMatchObject({ Outcome: "failed", ErrorCode: "AuthError" });
    expect(rig.endpoint.requests).toHaveLength(0);
    expect(h.sim.count()).toBe(0);
  });

  it("auth login: device code, prints only the address and code, stores the refresh token the next run redeems", async () => {
    rig.endpoint.nextDeviceLogin = { pendingPolls: 1, outcome: "approve" };
    const { BILLING_SYNC_STORAGE: _noStorage, ...loginEnv } = userEnv();
    let stdout = "";
    let stderr = "";
    const code = await runCli(["auth", "login"], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      env: loginEnv,
      authLogin: { ...rig.userAuth(), sleep: async () => {} },
    });
    printed.push(stdout, stderr);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("open https://microsoft.com/devicelogin and enter the code FAKE-CODE");
    expect(stdout).toMatch(/The refresh token is stored in Key Vault secret "partner-center-refresh-token" of https:\/\/127\.0\.0\.1:\d+, version [0-9a-f]{32}\./);
    const stored = rig.vault.current(REFRESH_TOKEN_SECRET)!;
    expect(rig.endpoint.issued.includes(stored)).toBe(true);
    // The polls carried the app's assertion: the token is a confidential client's, redeemable with it later.
    expect(rig.endpoint.requests.filter((r) => r.form.device_code).every((r) => r.form.client_assertion === rig.identity.assertion)).toBe(true);

    const result = await sync(userEngine(), await target());
    expect(result.outcome).toBe("corrected");
    expect(rig.endpoint.exchanges()[0].form.refresh_token === stored).toBe(true);
  });

  it("auth login --client-secret-stdin: a short-lived secret given on standard input, used for the sign-in only", async () => {
    rig.endpoint.nextDeviceLogin = { pendingPolls: 0, outcome: "approve" };
    let stdout = "";
    const code = await runCli(["auth", "login", "--client-secret-stdin"], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stdout += t),
      env: userEnv(),
      readStdin: async () => `${rig.clientSecret}\n`,
      authLogin: { ...rig.userAuth(), sleep: async () => {} },
    });
    printed.push(stdout);
    expect(code).toBe(0);
    const polls = rig.endpoint.requests.filter((r) => r.form.device_code);
    expect(polls.length).toBeGreaterThan(0);
    expect(polls.every((r) => r.form.client_secret === rig.clientSecret && r.form.client_assertion === undefined)).toBe(true);
    expect(rig.identity.scopes.at(-1)).toBe("https://vault.azure.net/.default");
  });

  it("auth login without a managed identity stops before the sign-in and points to --client-secret-stdin", async () => {
    rig.identity.failWith = { name: "CredentialUnavailableError", message: "ManagedIdentityCredential: no managed identity endpoint found.", scopePrefix: "api://" };
    let stderr = "";
    try {
      const code = await runCli(["auth", "login"], { stdout: () => {}, stderr: (t) => void (stderr += t), env: userEnv(), authLogin: rig.userAuth() });
      expect(code).toBe(1);
    } finally {
      rig.identity.failWith = undefined;
    }
    printed.push(stderr);
    expect(stderr).toMatch(/AuthError: The managed identity could not give a client assertion .*--client-secret-stdin/);
    expect(rig.endpoint.requests).toHaveLength(0);
  });

  it("auth login stops before the sign-in when Key Vault refuses the operator", async () => {
    rig.vault.forbid = { read: true };
    let stderr = "";
    const code = await runCli(["auth", "login"], { stdout: () => {}, stderr: (t) => void (stderr += t), env: userEnv(), authLogin: rig.userAuth() });
    printed.push(stderr);
    expect(code).toBe(1);
    expect(stderr).toMatch(/AuthError: Key Vault .* refused to read secret "partner-center-refresh-token" \(403 ForbiddenByRbac\): the signed-in operator/);
    expect(rig.endpoint.requests).toHaveLength(0);
  });

  it("cold start: building the engine with user auth loads neither @azure/identity nor @azure/keyvault-secrets", async () => {
    const engineJs = join(__dirname, "..", "..", "dist", "shared", "engine", "engine.js");
    const settingsJs = join(__dirname, "..", "..", "dist", "shared", "config", "settings.js");
    const script = `
      const { Engine } = require(${JSON.stringify(engineJs)});
      const { loadSettings } = require(${JSON.stringify(settingsJs)});
      new Engine(loadSettings(process.env));
      const loaded = Object.keys(require.cache).filter((k) => /@azure[\\\\/](identity|keyvault-secrets|msal-node)[\\\\/]/.test(k));
      process.stdout.write(JSON.stringify(loaded));`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["-e", script], { env: { ...process.env, ...rig.env, BILLING_SYNC_STORAGE: "UseDevelopmentStorage=true" } }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    expect(JSON.parse(out)).toEqual([]);
  });
});
