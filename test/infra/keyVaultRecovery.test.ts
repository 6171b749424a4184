import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { literal, parameters, property, propertyAt, resourcesOfType, stringLiteral } from "../support/bicep";
import { infraFile, moduleParams, PROJECT_ROOT } from "./infra";

/**
 * Redeploying after `azd down`: the preprovision hook (infra/hooks/keyVaultCreateMode.mjs)
 * reads `az keyvault list-deleted` and sets AZURE_KEY_VAULT_CREATE_MODE, which main.bicep
 * passes to the vault's createMode; with VNET_ENABLED=true it first checks that Microsoft.App
 * is registered. az and azd cannot run here (they need Azure): the hook runs for real, with
 * stand-ins for both on PATH that print what az prints and record what each is asked.
 */
const HOOK = join(PROJECT_ROOT, "infra", "hooks", "keyVaultCreateMode.mjs");
const SUBSCRIPTION = "00000000-1111-2222-3333-444444444444";

function deletedVault(name: string, options: { env?: string; app?: string; location?: string; subscription?: string } = {}) {
  const { env = "dev", app = "partner-billing-sync", location = "westeurope", subscription = SUBSCRIPTION } = options;
  return {
    id: `/subscriptions/${subscription}/providers/Microsoft.KeyVault/locations/${location}/deletedVaults/${name}`,
    name,
    type: "Microsoft.KeyVault/deletedVaults",
    properties: {
      deletionDate: "2026-11-20T10:00:00+00:00",
      location,
      purgeProtectionEnabled: true,
      scheduledPurgeDate: "2027-02-18T10:00:00+00:00",
      tags: { "azd-env-name": env, app },
      vaultId: `/subscriptions/${subscription}/resourceGroups/rg-${env}/providers/Microsoft.KeyVault/vaults/${name}`,
    },
  };
}

interface HookRun {
  code: number;
  stdout: string;
  stderr: string;
  /** One line per az call. */
  azCalls: string[];
  azdArgs: string;
}

interface FakeAz {
  /** What `az keyvault list-deleted` prints (JSON, or text as is). */
  deleted?: unknown;
  /** Its exit code: non-zero prints the CLI's "Please run 'az login'" error. */
  listExit?: number;
  /** What `az provider show --query registrationState` prints, and its exit code. */
  provider?: string;
  providerExit?: number;
}

function runHook(fake: FakeAz, env: Record<string, string>): Promise<HookRun> {
  const { deleted = [], listExit = 0, provider = "Registered", providerExit = 0 } = fake;
  const bin = mkdtempSync(join(tmpdir(), "fake-az-"));
  writeFileSync(join(bin, "deleted.json"), typeof deleted === "string" ? deleted : JSON.stringify(deleted));
  const fail = (code: number) => `if [ ${code} -ne 0 ]; then echo "ERROR: Please run 'az login' to setup account." >&2; exit ${code}; fi`;
  writeFileSync(
    join(bin, "az"),
    [
      "#!/bin/sh",
      `echo "$@" >> "${bin}/az.args"`,
      'case "$1" in',
      `  provider) ${fail(providerExit)}; echo "${provider}" ;;`,
      `  keyvault) ${fail(listExit)}; cat "${bin}/deleted.json" ;;`,
      '  *) echo "unexpected az call" >&2; exit 2 ;;',
      "esac",
      "",
    ].join("\n"),
  );
  writeFileSync(join(bin, "azd"), `#!/bin/sh\necho "$@" >> "${bin}/azd.args"\n`);
  chmodSync(join(bin, "az"), 0o755);
  chmodSync(join(bin, "azd"), 0o755);
  const read = (file: string) => {
    try {
      return readFileSync(join(bin, file), "utf8").trim();
    } catch {
      return "";
    }
  };
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^AZURE_|^VNET_ENABLED$/.test(key)));
  return new Promise((resolve) =>
    execFile(process.execPath, [HOOK], { cwd: PROJECT_ROOT, env: { ...clean, ...env, PATH: `${bin}${delimiter}${process.env.PATH}` } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr, azCalls: read("az.args").split("\n").filter(Boolean), azdArgs: read("azd.args") }),
    ),
  );
}

const DEV = { AZURE_ENV_NAME: "dev", AZURE_LOCATION: "westeurope", AZURE_SUBSCRIPTION_ID: SUBSCRIPTION };
const LIST = `keyvault list-deleted --resource-type vault --output json --subscription ${SUBSCRIPTION}`;
const SET_DEFAULT = "env set AZURE_KEY_VAULT_CREATE_MODE default --environment dev";
const SET_RECOVER = "env set AZURE_KEY_VAULT_CREATE_MODE recover --environment dev";

describe("Key Vault recovery after azd down (preprovision hook)", () => {
  it("recovers this environment's soft-deleted vault, found by its tags, with the subscription and region both known", async () => {
    const run = await runHook({ deleted: [deletedVault("kv-other", { env: "prod" }), deletedVault("kv-abc123")] }, DEV);
    expect(run.azCalls).toEqual([LIST]);
    expect(run.azdArgs).toBe(SET_RECOVER);
    expect(run.stdout).toMatch(/recover \(Key Vault kv-abc123 of environment dev is soft-deleted \(purged on 2027-02-18.*found by its tags, in subscription 00000000-1111-2222-3333-444444444444 and region westeurope/);
  });

  it("recovers by the name azd knows (AZURE_KEY_VAULT_NAME), tags or not, even before azd knows the subscription and region", async () => {
    const run = await runHook({ deleted: [deletedVault("kv-abc123", { env: "renamed", app: "other", location: "northeurope" })] }, { AZURE_ENV_NAME: "dev", AZURE_KEY_VAULT_NAME: "kv-abc123" });
    expect(run.azCalls).toEqual(["keyvault list-deleted --resource-type vault --output json"]);
    expect(run.azdArgs).toBe(SET_RECOVER);
    expect(run.stdout).toMatch(/found by the name azd knows/);
  });

  it("does not recover a vault of that name in another subscription than this environment's", async () => {
    const run = await runHook({ deleted: [deletedVault("kv-abc123", { subscription: "99999999-1111-2222-3333-444444444444" })] }, { ...DEV, AZURE_KEY_VAULT_NAME: "kv-abc123" });
    expect(run.azdArgs).toBe(SET_DEFAULT);
  });

  it("creates (default) when no vault of this environment is deleted: first deployment, a redeploy, another environment, region or subscription", async () => {
    for (const deleted of [[], [deletedVault("kv-x", { env: "prod" })], [deletedVault("kv-x", { location: "northeurope" })], [deletedVault("kv-x", { subscription: "99999999-1111-2222-3333-444444444444" })], [deletedVault("kv-x", { app: "someone-else" })]]) {
      const run = await runHook({ deleted }, DEV);
      expect({ deleted: deleted.map((vault) => vault.name), set: run.azdArgs }).toEqual({ deleted: deleted.map((vault) => vault.name), set: SET_DEFAULT });
    }
  });

  it("on a first standalone azd provision (no subscription or region yet, no vault name) does not match by tags: default, without asking az, and says why", async () => {
    // A same-named environment's vault elsewhere: matching it by tags would recover a vault that cannot be this one.
    const tagTwin = [deletedVault("kv-elsewhere", { location: "eastus", subscription: "99999999-1111-2222-3333-444444444444" })];
    const envs: Record<string, string>[] = [{ AZURE_ENV_NAME: "dev" }, { AZURE_ENV_NAME: "dev", AZURE_SUBSCRIPTION_ID: SUBSCRIPTION }, { AZURE_ENV_NAME: "dev", AZURE_LOCATION: "eastus" }];
    for (const env of envs) {
      const run = await runHook({ deleted: tagTwin }, env);
      expect({ env, azCalls: run.azCalls, set: run.azdArgs, code: run.code }).toEqual({ env, azCalls: [], set: SET_DEFAULT, code: 0 });
      expect(run.stdout).toMatch(/default \((AZURE_SUBSCRIPTION_ID|AZURE_LOCATION).* not known yet .*azd env set AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE recover/);
    }
  });

  it("does not guess between two candidates: default, and says how to choose", async () => {
    const run = await runHook({ deleted: [deletedVault("kv-a"), deletedVault("kv-b")] }, DEV);
    expect(run.azdArgs).toBe(SET_DEFAULT);
    expect(run.stdout).toMatch(/several soft-deleted vaults could be this environment's \(kv-a, kv-b\); choose: azd env set AZURE_KEY_VAULT_NAME <name>/);
  });

  it("without a usable Azure CLI and no vault provisioned before: default, a warning saying what to do, and provisioning goes on", async () => {
    const run = await runHook({ listExit: 1 }, DEV);
    expect(run.code).toBe(0);
    expect(run.azdArgs).toBe(SET_DEFAULT);
    expect(run.stderr).toMatch(/warning: could not list soft-deleted Key Vaults with the Azure CLI \(ERROR: Please run 'az login'.*no AZURE_KEY_VAULT_NAME.*azd env set AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE recover/);
  });

  it("without a usable Azure CLI after an earlier provision (azd knows the vault's name): stops, saying how to sign az in (a person, a pipeline's federated credential) or how to choose by hand", async () => {
    for (const fake of [{ listExit: 1 }, { deleted: "not json" }]) {
      const run = await runHook(fake, { ...DEV, AZURE_KEY_VAULT_NAME: "kv-abc123" });
      expect({ fake, code: run.code, azdArgs: run.azdArgs }).toEqual({ fake, code: 1, azdArgs: "" });
      expect(run.stderr).toMatch(/^Could not list soft-deleted Key Vaults with the Azure CLI \(.+\)\.\nThis environment provisioned Key Vault kv-abc123 before/);
      expect(run.stderr).toContain("az login\n");
      expect(run.stderr).toMatch(/az login --service-principal --username "\$AZURE_CLIENT_ID" --tenant "\$AZURE_TENANT_ID" --federated-token/);
      expect(run.stderr).toMatch(/azd env set AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE recover .*\n.*azd env set AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE default/);
      expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    }
  });

  it("takes the mode set by hand (AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE) without asking az, and refuses another value", async () => {
    const run = await runHook({ listExit: 1 }, { ...DEV, AZURE_KEY_VAULT_NAME: "kv-abc123", AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE: "recover" });
    expect({ code: run.code, azCalls: run.azCalls, set: run.azdArgs }).toEqual({ code: 0, azCalls: [], set: SET_RECOVER });
    expect(run.stdout).toMatch(/set by hand .*unset it once provisioning has passed/);
    const wrong = await runHook({}, { ...DEV, AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE: "purge" });
    expect({ code: wrong.code, set: wrong.azdArgs }).toEqual({ code: 1, set: "" });
    expect(wrong.stderr).toMatch(/AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE is 'purge': it must be recover or default/);
  });

  it("feeds the vault's createMode: a parameter of main.bicep (default|recover) filled from the hook's variable", async () => {
    const main = await infraFile("main.bicep");
    const mainParam = parameters(main).find((param) => param.name === "keyVaultCreateMode");
    expect(literal(mainParam?.defaultValue)).toBe("default");
    const allowed = mainParam?.decorators.get("allowed")?.childForFieldName("arguments")?.namedChildren[0];
    expect(allowed?.namedChildren.map((item) => stringLiteral(item ?? undefined))).toEqual(["default", "recover"]);
    expect(moduleParams(main, "keyVault").get("createMode")).toBe("keyVaultCreateMode");

    const keyVault = await infraFile("core/keyvault.bicep");
    const [vault] = resourcesOfType([keyVault], "Microsoft.KeyVault/vaults");
    expect(propertyAt(vault.body, "properties", "createMode")?.text).toBe("createMode");
    expect(literal(parameters(keyVault).find((param) => param.name === "createMode")?.defaultValue)).toBe("default");
    // Soft delete and purge protection stay on: recovery is how a redeploy gets the name back.
    expect(literal(propertyAt(vault.body, "properties", "enablePurgeProtection"))).toBe(true);
  });
});

describe("VNET_ENABLED=true: the Microsoft.App resource provider (preprovision hook)", () => {
  const PROVIDER = `provider show --namespace Microsoft.App --query registrationState --output tsv --subscription ${SUBSCRIPTION}`;

  it("goes on when Microsoft.App is registered in the subscription", async () => {
    const run = await runHook({ provider: "Registered" }, { ...DEV, VNET_ENABLED: "true" });
    expect({ code: run.code, azCalls: run.azCalls, set: run.azdArgs }).toEqual({ code: 0, azCalls: [PROVIDER, LIST], set: SET_DEFAULT });
  });

  it("stops when it is not registered, saying how to register it, before anything is set", async () => {
    const run = await runHook({ provider: "NotRegistered" }, { ...DEV, VNET_ENABLED: "true" });
    expect({ code: run.code, azCalls: run.azCalls, set: run.azdArgs }).toEqual({ code: 1, azCalls: [PROVIDER], set: "" });
    expect(run.stderr).toMatch(/VNET_ENABLED=true needs the Microsoft\.App resource provider registered in subscription 00000000-1111-2222-3333-444444444444: the app's subnet is delegated to Microsoft\.App\/environments/);
    expect(run.stderr).toContain(`az provider register --namespace Microsoft.App --subscription ${SUBSCRIPTION} --wait`);
  });

  it("stops while it is still registering, saying to wait", async () => {
    const run = await runHook({ provider: "Registering" }, { ...DEV, VNET_ENABLED: "True" });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Microsoft\.App is still registering: wait until it says Registered/);
  });

  it("warns and goes on when az cannot tell (not signed in); does not ask at all without VNET_ENABLED", async () => {
    const run = await runHook({ providerExit: 1 }, { ...DEV, VNET_ENABLED: "true" });
    expect({ code: run.code, set: run.azdArgs }).toEqual({ code: 0, set: SET_DEFAULT });
    expect(run.stderr).toMatch(/warning: could not check that the Microsoft\.App resource provider is registered .*az provider register --namespace Microsoft\.App/);
    for (const VNET_ENABLED of ["false", ""]) {
      const off = await runHook({ provider: "NotRegistered" }, { ...DEV, VNET_ENABLED });
      expect({ VNET_ENABLED, azCalls: off.azCalls, code: off.code }).toEqual({ VNET_ENABLED, azCalls: [LIST], code: 0 });
    }
  });
});

describe("Key Vault audit log", () => {
  it("sends AuditEvent to the Log Analytics workspace through a diagnostic setting on the vault", async () => {
    const keyVault = await infraFile("core/keyvault.bicep");
    const [vault] = resourcesOfType([keyVault], "Microsoft.KeyVault/vaults");
    const [setting] = resourcesOfType([keyVault], "Microsoft.Insights/diagnosticSettings");
    expect(property(setting.body, "scope")?.text).toBe(vault.symbol);
    expect(propertyAt(setting.body, "properties", "workspaceId")?.text).toBe("logAnalyticsWorkspaceId");
    const logs = propertyAt(setting.body, "properties", "logs");
    const categories = (logs?.namedChildren ?? []).map((log) => ({ category: literal(property(log ?? undefined, "category")), enabled: literal(property(log ?? undefined, "enabled")) }));
    expect(categories).toEqual([{ category: "AuditEvent", enabled: true }]);
    const main = await infraFile("main.bicep");
    expect(moduleParams(main, "keyVault").get("logAnalyticsWorkspaceId")).toBe("monitoring.outputs.logAnalyticsId");
  });
});
