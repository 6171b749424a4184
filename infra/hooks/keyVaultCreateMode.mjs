// azd preprovision hook (azure.yaml), run before every provision.
//
// 1. With VNET_ENABLED=true: checks that the Microsoft.App resource provider is registered
//    in the subscription (the app's subnet is delegated to Microsoft.App/environments, and
//    the deployment fails late without it) and says how to register it.
// 2. Chooses how infra/core/keyvault.bicep creates the Key Vault. Its name is fixed per
//    environment (kv-<hash of subscription, environment, region>) and purge protection keeps
//    a deleted vault for 90 days, so after `azd down` the next `azd up` of the same
//    environment would fail on the name. When this environment's vault is soft-deleted, the
//    hook sets AZURE_KEY_VAULT_CREATE_MODE=recover (main.parameters.json), which recovers it
//    with its secrets, the refresh token included; otherwise default. It says recover only
//    when it is sure the vault is this environment's: by the name azd knows
//    (AZURE_KEY_VAULT_NAME), or by the tags with both the subscription and the region known.
//    AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE (recover or default) sets the mode by hand.
//
// Reads the Azure CLI (az, signed in). Node, not sh or PowerShell, so that one script serves
// both shells and its decisions can be tested offline.
import { execFileSync } from "node:child_process";
import { pathToFileURL } from "node:url";

const APP_TAG = "partner-billing-sync";
const MODES = ["default", "recover"];
const norm = (value) => String(value ?? "").toLowerCase().replace(/\s+/g, "");

/** A stop the operator must act on: printed as is, and the hook exits 1 (azd stops). */
export class HookStop extends Error {}

/** The one thing to do when the CLI is not signed in, for a person and for a pipeline. */
export const SIGN_IN_HELP = [
  "Sign the Azure CLI in to the same tenant and subscription as azd:",
  "  a person:   az login",
  "  a pipeline, with the federated credential azd uses (workload identity):",
  '              az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")"',
  "              (GitHub Actions: the azure/login action with client-id, tenant-id and subscription-id;",
  "               Azure Pipelines: the AzureCLI@2 task with the same service connection)",
].join("\n");

/** The first line of what az printed on failure, for messages. */
export const failureDetail = (err) => String(err?.stderr || err?.message || err).trim().split("\n")[0];

/**
 * Whether listing the soft-deleted vaults can lead to a decision: it can when azd knows the
 * vault's name, or the subscription and region that the name depends on. On a first
 * standalone `azd provision` of a new environment azd runs this hook before it asks for
 * them, and tags alone could match a same-named environment's vault elsewhere.
 */
export function canDecide(env) {
  return Boolean(env.vaultName) || (Boolean(env.subscriptionId) && Boolean(env.location));
}

/** Why the hook does not look: what is unknown, and what to do if provisioning then fails on the name. */
export function undecidedReason(env) {
  const unknown = [!env.subscriptionId && "AZURE_SUBSCRIPTION_ID", !env.location && "AZURE_LOCATION"].filter(Boolean).join(" and ");
  return `${unknown} not known yet (azd asks for them after this hook on a first provision) and no AZURE_KEY_VAULT_NAME: a soft-deleted vault cannot be told to be this environment's, so the vault is created. If provisioning then fails because the name is held by a deleted vault: azd env set AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE recover, and azd provision again.`;
}

/**
 * The decision, from the JSON `az keyvault list-deleted --resource-type vault` prints and the
 * azd environment: { mode: "recover" | "default", vault?, reason }. By name when azd knows it
 * (AZURE_KEY_VAULT_NAME, an output of an earlier provision); otherwise by the tags main.bicep
 * puts on it (azd-env-name, app), and then only in this environment's subscription and
 * region, both known (canDecide).
 */
export function decideCreateMode(deleted, env) {
  if (!Array.isArray(deleted)) throw new Error("az keyvault list-deleted did not print a JSON array");
  if (!canDecide(env)) return { mode: "default", reason: undecidedReason(env) };
  const inSubscription = (props) => !env.subscriptionId || norm(props.vaultId).startsWith(`/subscriptions/${norm(env.subscriptionId)}/`);
  const candidates = deleted.filter((vault) => {
    const props = vault?.properties ?? {};
    if (env.vaultName) return norm(vault.name) === norm(env.vaultName) && inSubscription(props);
    const tags = props.tags ?? {};
    return tags["azd-env-name"] === env.envName && tags.app === APP_TAG && norm(props.location) === norm(env.location) && inSubscription(props);
  });
  const names = [...new Set(candidates.map((vault) => vault.name))];
  const how = env.vaultName ? "by the name azd knows" : `by its tags, in subscription ${env.subscriptionId} and region ${env.location}`;
  if (names.length === 1) {
    const purge = candidates[0].properties?.scheduledPurgeDate;
    return { mode: "recover", vault: names[0], reason: `Key Vault ${names[0]} of environment ${env.envName} is soft-deleted${purge ? ` (purged on ${purge})` : ""}, found ${how}: recovering it, with its secrets.` };
  }
  if (names.length > 1) {
    return { mode: "default", reason: `several soft-deleted vaults could be this environment's (${names.join(", ")}); choose: azd env set AZURE_KEY_VAULT_NAME <name>, or azd env set AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE recover.` };
  }
  return { mode: "default", reason: `no soft-deleted Key Vault of environment ${env.envName} (looked ${how}): creating or updating it.` };
}

/**
 * When az could not list the deleted vaults. If this environment has provisioned a vault
 * before (azd knows its name), `azd down` may have left it soft-deleted and `default` would
 * fail on the name: stop, saying how to let the hook look or how to choose by hand.
 * Otherwise there is nothing to recover that the hook could be sure of: default, with a warning.
 */
export function listingFailed(detail, env) {
  if (env.vaultName) {
    throw new HookStop(
      [
        `Could not list soft-deleted Key Vaults with the Azure CLI (${detail}).`,
        `This environment provisioned Key Vault ${env.vaultName} before. If \`azd down\` deleted it, purge protection holds its name for 90 days and creating it again fails; the hook cannot tell without the CLI, so it stops here rather than guess.`,
        SIGN_IN_HELP,
        "and run azd provision again. Or choose by hand (the hook then does not look):",
        `  azd env set AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE recover   # ${env.vaultName} is soft-deleted (az keyvault list-deleted)`,
        `  azd env set AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE default   # it exists, or was never deleted`,
        'and unset it afterwards (azd env set AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE "").',
      ].join("\n"),
    );
  }
  return {
    mode: "default",
    warning: true,
    reason: `could not list soft-deleted Key Vaults with the Azure CLI (${detail}); this environment has provisioned no vault yet (no AZURE_KEY_VAULT_NAME), so it is created. If provisioning then fails because the name is held by a deleted vault: az login, or azd env set AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE recover, and azd provision again.`,
  };
}

/** AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE, checked: undefined when unset. */
export function overrideMode(value) {
  const mode = String(value ?? "").trim();
  if (!mode) return undefined;
  if (!MODES.includes(mode)) throw new HookStop(`AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE is '${mode}': it must be recover or default (or empty: the hook decides).`);
  return { mode, reason: `set by hand (AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE=${mode}); unset it once provisioning has passed: azd env set AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE "".` };
}

/**
 * With VNET_ENABLED=true, the registration state of Microsoft.App as `az provider show`
 * printed it: nothing when Registered; a stop, saying how to register it, otherwise.
 */
export function checkAppProvider(state, env) {
  if (norm(state) === "registered") return;
  const subscription = env.subscriptionId ? ` --subscription ${env.subscriptionId}` : "";
  const where = env.subscriptionId ? `subscription ${env.subscriptionId}` : "the Azure CLI's current subscription";
  const now = norm(state) === "registering" ? "is still registering: wait until it says Registered" : `is ${state || "not registered"}: register it once (Owner or Contributor on the subscription)`;
  throw new HookStop(
    [
      `VNET_ENABLED=true needs the Microsoft.App resource provider registered in ${where}: the app's subnet is delegated to Microsoft.App/environments.`,
      `Microsoft.App ${now}:`,
      `  az provider register --namespace Microsoft.App${subscription} --wait`,
      `  az provider show --namespace Microsoft.App${subscription} --query registrationState --output tsv`,
      "then run azd provision again.",
    ].join("\n"),
  );
}

export const vnetEnabled = (value) => norm(value) === "true";

function run(command, args) {
  // On Windows az and azd are .cmd/.exe shims that only a shell resolves.
  return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], shell: process.platform === "win32" });
}

function main() {
  const env = {
    envName: process.env.AZURE_ENV_NAME ?? "",
    location: process.env.AZURE_LOCATION ?? "",
    subscriptionId: process.env.AZURE_SUBSCRIPTION_ID ?? "",
    vaultName: process.env.AZURE_KEY_VAULT_NAME ?? "",
  };
  const subscription = env.subscriptionId ? ["--subscription", env.subscriptionId] : [];

  if (vnetEnabled(process.env.VNET_ENABLED)) {
    let state;
    try {
      state = run("az", ["provider", "show", "--namespace", "Microsoft.App", "--query", "registrationState", "--output", "tsv", ...subscription]).trim();
    } catch (err) {
      process.stderr.write(`warning: could not check that the Microsoft.App resource provider is registered (${failureDetail(err)}). VNET_ENABLED=true needs it; if provisioning fails on it: az provider register --namespace Microsoft.App --wait\n`);
    }
    if (state !== undefined) checkAppProvider(state, env);
  }

  let decision = overrideMode(process.env.AZURE_KEY_VAULT_CREATE_MODE_OVERRIDE);
  if (!decision && !canDecide(env)) decision = { mode: "default", reason: undecidedReason(env) };
  if (!decision) {
    let deleted;
    try {
      deleted = JSON.parse(run("az", ["keyvault", "list-deleted", "--resource-type", "vault", "--output", "json", ...subscription]));
      if (!Array.isArray(deleted)) throw new Error("az keyvault list-deleted did not print a JSON array");
    } catch (err) {
      decision = listingFailed(failureDetail(err), env);
    }
    decision ??= decideCreateMode(deleted, env);
  }
  if (decision.warning) process.stderr.write(`warning: ${decision.reason}\n`);
  const setArgs = ["env", "set", "AZURE_KEY_VAULT_CREATE_MODE", decision.mode];
  if (env.envName) setArgs.push("--environment", env.envName);
  run("azd", setArgs);
  process.stdout.write(`Key Vault create mode: ${decision.mode} (${decision.reason})\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    main();
  } catch (err) {
    if (!(err instanceof HookStop)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  }
}
