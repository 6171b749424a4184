import { calls, descendants, memberPath, outputs, parameters, parseBicep, stringLiteral, type BicepFile, type Node } from "../support/bicep";
import { appSettingsOf } from "./appSettingsModel";
import { infraFiles } from "./infra";

/** Words of an identifier: PARTNER_CENTER_KEY_VAULT_URL, storageConnectionString, primary-key. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
}

const SECRET_WORDS = new Set(["secret", "secrets", "password", "passwd", "pwd", "key", "keys", "token", "tokens", "sas", "credential", "credentials", "connectionstring", "accountkey", "instrumentationkey"]);

/** A name that says it holds a secret. "Key Vault" names the service, not a key. */
function secretLikeName(name: string): boolean {
  const list = words(name);
  return list.some((word, index) => {
    if (word === "key" && list[index + 1] === "vault") return false;
    if (word === "connection" && list[index + 1] === "string") return true;
    return SECRET_WORDS.has(word);
  });
}

/** Why a value expression would put a secret into the deployment output, if it would. */
function secretLikeValue(file: BicepFile, value: Node): string | undefined {
  const list = calls({ ...file, root: value }).find((call) => /^list/i.test(call.name));
  if (list) return `calls ${list.name}()`;
  for (const access of [value, ...descendants(value, "member_expression")]) {
    const last = memberPath(access).at(-1);
    if (last && secretLikeName(last)) return `reads .${last}`;
  }
  const secure = new Set(parameters(file).filter((param) => param.decorators.has("secure")).map((param) => param.name));
  const named = [value, ...descendants(value, "identifier")].find((node) => node.type === "identifier" && secure.has(node.text));
  if (named) return `passes the @secure() parameter ${named.text}`;
  return undefined;
}

function outputProblems(files: BicepFile[]): string[] {
  return files.flatMap((file) =>
    outputs(file).flatMap((output) => {
      const problems: string[] = [];
      if (secretLikeName(output.name)) problems.push(`${file.name}: output ${output.name} is named like a secret`);
      const reason = secretLikeValue(file, output.value);
      if (reason) problems.push(`${file.name}: output ${output.name} ${reason}`);
      return problems;
    }),
  );
}

describe("no secret anywhere in the deployment", () => {
  it("calls no listKeys (nor any list* function: listSecrets, listAccountSas, ...)", async () => {
    const found = (await infraFiles()).flatMap((file) => calls(file).filter((call) => /^list/i.test(call.name)).map((call) => `${file.name}: ${call.name}`));
    expect(found).toEqual([]);
  });

  it("finds a listKeys call however it is written (the check can fail)", async () => {
    const file = await parseBicep("var a = listKeys(account.id, '2024-01-01').keys[0].value\nvar b = account.listKeys().keys[0].value\nvar c = LISTKEYS(x, 'y')\n", "keys.bicep");
    expect(calls(file).filter((call) => /^list/i.test(call.name)).map((call) => call.name)).toEqual(["listKeys", "listKeys", "LISTKEYS"]);
  });

  it("outputs nothing named or computed like a secret, a key or a connection string", async () => {
    const files = await infraFiles();
    expect(files.flatMap(outputs).length).toBeGreaterThan(10);
    expect(outputProblems(files)).toEqual([]);
  });

  it("flags secret-like outputs and lets Key Vault names through (the check can fail)", async () => {
    const file = await parseBicep(
      [
        "@secure()",
        "param adminPassword string",
        "output storageConnectionString string = 'x'",
        "output primaryKey string = 'x'",
        "output ikey string = appInsights.properties.InstrumentationKey",
        "output telemetry string = appInsights.properties.ConnectionString",
        "output keys object = account.listKeys()",
        "output adminValue string = adminPassword",
        "output AZURE_KEY_VAULT_NAME string = vault.name",
        "output PARTNER_CENTER_KEY_VAULT_URL string = 'https://${vault.name}.vault.azure.net'",
        "output MANAGED_IDENTITY_CLIENT_ID string = identity.properties.clientId",
      ].join("\n"),
      "outputs.bicep",
    );
    expect(outputProblems([file])).toEqual([
      "outputs.bicep: output storageConnectionString is named like a secret",
      "outputs.bicep: output primaryKey is named like a secret",
      "outputs.bicep: output ikey reads .InstrumentationKey",
      "outputs.bicep: output telemetry reads .ConnectionString",
      "outputs.bicep: output keys is named like a secret",
      "outputs.bicep: output keys calls listKeys()",
      "outputs.bicep: output adminValue passes the @secure() parameter adminPassword",
    ]);
  });

  it("takes no secret as a parameter: nothing secret goes in, so nothing secret can come out", async () => {
    const secure = (await infraFiles()).flatMap((file) => parameters(file).filter((param) => param.decorators.has("secure")).map((param) => `${file.name}: ${param.name}`));
    expect(secure).toEqual([]);
  });

  it("puts no key, SAS or secret value in an app setting", async () => {
    const settings = appSettingsOf(await infraFiles());
    for (const [name, value] of settings) {
      const text = stringLiteral(value) ?? value.text;
      expect({ name, text }).toEqual({ name, text: expect.not.stringMatching(/AccountKey=|SharedAccessSignature=|[?&]sig=|InstrumentationKey=|ClientSecret=|listKeys|listSecrets/i) });
    }
  });
});
