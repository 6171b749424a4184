import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { literal, parameters, property, propertyAt, resourcesOfType, stringLiteral } from "../support/bicep";
import { infraFile, moduleParams, PROJECT_ROOT } from "./infra";

/**
 * Redeploying after `azd down`: the preprovision hook (infra/hooks/keyVaultCreateMode.mjs)
 * reads `az keyvault list-deleted` and sets AZURE_KEY_VAULT_CREATE_MODE, which main.bicep
 * passes to the vault's createMode. az and azd cannot run here (they need Azure): the hook
 * runs for real, with stand-ins for both on PATH that print what az prints and record what
 * azd is asked to set.
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
  stdout: string;
  stderr: string;
  azArgs: string;
  azdArgs: string;
}

function runHook(azOutput: unknown, env: Record<string, string>, azExitCode = 0): Promise<HookRun> {
  const bin = mkdtempSync(join(tmpdir(), "fake-az-"));
  writeFileSync(join(bin, "deleted.json"), typeof azOutput === "string" ? azOutput : JSON.stringify(azOutput));
  writeFileSync(join(bin, "az"), `#!/bin/sh\necho "$@" > "${bin}/az.args"\nif [ ${azExitCode} -ne 0 ]; then echo "ERROR: Please run 'az login' to setup account." >&2; exit ${azExitCode}; fi\ncat "${bin}/deleted.json"\n`);
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
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^AZURE_/.test(key)));
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [HOOK], { cwd: PROJECT_ROOT, env: { ...clean, ...env, PATH: `${bin}${delimiter}${process.env.PATH}` } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr, azArgs: read("az.args"), azdArgs: read("azd.args") }),
    ),
  );
}

const DEV = { AZURE_ENV_NAME: "dev", AZURE_LOCATION: "westeurope", AZURE_SUBSCRIPTION_ID: SUBSCRIPTION };

describe("Key Vault recovery after azd down (preprovision hook)", () => {
  it("recovers this environment's soft-deleted vault, found by its tags, in this subscription", async () => {
    const run = await runHook([deletedVault("kv-other", { env: "prod" }), deletedVault("kv-abc123")], DEV);
    expect(run.azArgs).toBe(`keyvault list-deleted --resource-type vault --output json --subscription ${SUBSCRIPTION}`);
    expect(run.azdArgs).toBe("env set AZURE_KEY_VAULT_CREATE_MODE recover --environment dev");
    expect(run.stdout).toMatch(/recover \(Key Vault kv-abc123 of environment dev is soft-deleted \(purged on 2027-02-18/);
  });

  it("finds it by name once azd knows the name (AZURE_KEY_VAULT_NAME), tags or not", async () => {
    const run = await runHook([deletedVault("kv-abc123", { env: "renamed", app: "other" })], { ...DEV, AZURE_KEY_VAULT_NAME: "kv-abc123" });
    expect(run.azdArgs).toBe("env set AZURE_KEY_VAULT_CREATE_MODE recover --environment dev");
  });

  it("creates (default) when no vault of this environment is deleted: first deployment, a redeploy, another environment, region or subscription", async () => {
    for (const deleted of [[], [deletedVault("kv-x", { env: "prod" })], [deletedVault("kv-x", { location: "northeurope" })], [deletedVault("kv-x", { subscription: "99999999-1111-2222-3333-444444444444" })], [deletedVault("kv-x", { app: "someone-else" })]]) {
      const run = await runHook(deleted, DEV);
      expect({ deleted: deleted.map((vault) => vault.name), set: run.azdArgs }).toEqual({ deleted: deleted.map((vault) => vault.name), set: "env set AZURE_KEY_VAULT_CREATE_MODE default --environment dev" });
    }
  });

  it("does not guess between two candidates (region unknown): default, and says how to choose", async () => {
    const run = await runHook([deletedVault("kv-a", { location: "westeurope" }), deletedVault("kv-b", { location: "northeurope" })], { AZURE_ENV_NAME: "dev" });
    expect(run.azdArgs).toBe("env set AZURE_KEY_VAULT_CREATE_MODE default --environment dev");
    expect(run.stdout).toMatch(/several soft-deleted vaults could be this environment's \(kv-a, kv-b\)/);
  });

  it("without a usable Azure CLI: default, a warning saying what to do, and provisioning goes on", async () => {
    const run = await runHook("", DEV, 1);
    expect(run.azdArgs).toBe("env set AZURE_KEY_VAULT_CREATE_MODE default --environment dev");
    expect(run.stderr).toMatch(/warning: could not list soft-deleted Key Vaults with the Azure CLI \(ERROR: Please run 'az login'.*azd env set AZURE_KEY_VAULT_CREATE_MODE recover/);
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
