import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { azdZipFiles, functionServices, packageDir, parseYamlMap, readAzureYaml, remoteBuildOf, resolveRemoteBuild, theFunctionService } from "../../bench/azdPackage";
import { PROJECT_ROOT } from "./infra";

/**
 * azd's own packaging rules (restated in bench/azdPackage.ts from its source) applied to
 * the real azure.yaml and build output. azd itself cannot run here: it needs Azure.
 */
const service = theFunctionService(PROJECT_ROOT);

describe("azd packaging", () => {
  it("deploys one TypeScript Function App service, built locally (remoteBuild: false), from the build's package folder", () => {
    expect(service).toMatchObject({ name: "api", project: ".", language: "ts", host: "function", remoteBuild: false, dist: "dist/deploy" });
  });

  it("passes azd's remote-build rule (resolveFunctionAppRemoteBuild) with the project's .funcignore, or its absence", () => {
    expect(remoteBuildOf(PROJECT_ROOT, service)).toEqual({ remoteBuild: false });
  });

  it("the rule refuses what azd refuses: the former `*` .funcignore with remoteBuild: false, and remoteBuild: true without node_modules excluded", () => {
    const former = "*\n!/host.json\n!/package.json\n!/dist/\n!/dist/main.js\n";
    expect(resolveRemoteBuild(service, former)).toEqual({ error: "'remoteBuild: false' cannot be used when '.funcignore' excludes node_modules" });
    expect(resolveRemoteBuild(service, "\uFEFFnode_modules/\n")).toEqual({ error: "'remoteBuild: false' cannot be used when '.funcignore' excludes node_modules" });
    expect(resolveRemoteBuild({ ...service, remoteBuild: true }, "*.map\n")).toEqual({ error: "'remoteBuild: true' requires '.funcignore' to exclude node_modules" });
    expect(resolveRemoteBuild({ ...service, remoteBuild: undefined }, "node_modules\n")).toEqual({ remoteBuild: true });
    expect(resolveRemoteBuild({ ...service, remoteBuild: undefined }, undefined)).toEqual({ remoteBuild: true });
    expect(resolveRemoteBuild(service, "*.map\n")).toEqual({ remoteBuild: false });
  });

  it("zips a package folder whose package.json names the bundled entry and no dependency, beside the project's host.json", () => {
    // Its full file list, and that it runs from an empty folder: test/integration/package.test.ts.
    const dir = packageDir(PROJECT_ROOT, service);
    expect(azdZipFiles(dir, service)).toEqual(expect.arrayContaining(["host.json", "package.json", "main.js"]));
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
    expect(pkg.main).toBe("main.js");
    expect(existsSync(join(dir, pkg.main as string))).toBe(true);
    for (const key of ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies", "scripts", "bundleDependencies"]) expect({ key, present: key in pkg }).toEqual({ key, present: false });
    // The host.json the host reads is the project's one.
    expect(readFileSync(join(dir, "host.json"), "utf8")).toBe(readFileSync(join(PROJECT_ROOT, "host.json"), "utf8"));
  });

  it("zip rules: .azure, local.settings.json and the ignore file stay out; node_modules goes in only when remoteBuild is false and no .funcignore says otherwise", () => {
    // Built here, not kept in test/fixtures: .gitignore would drop node_modules and local.settings.json.
    const fixture = mkdtempSync(join(tmpdir(), "azd-zip-"));
    for (const [file, text] of Object.entries({ "host.json": "{}", "local.settings.json": "{}", "node_modules/x/index.js": "module.exports = 1;", ".azure/dev/.env": "AZURE_ENV_NAME=dev" })) {
      mkdirSync(dirname(join(fixture, file)), { recursive: true });
      writeFileSync(join(fixture, file), text);
    }
    const files = (remoteBuild?: boolean) => azdZipFiles(fixture, { ...service, remoteBuild });
    expect(files(false).sort()).toEqual(["host.json", "node_modules/x/index.js"]);
    expect(files(undefined)).toEqual(["host.json"]);
    writeFileSync(join(fixture, ".funcignore"), "*.json\n");
    expect(files(false)).toEqual(["node_modules/x/index.js"]);
  });

  it("runs a preprovision hook that exists, on POSIX and Windows shells", () => {
    const yaml = readAzureYaml(PROJECT_ROOT);
    const hook = (yaml.hooks as Record<string, Record<string, Record<string, string>>>).preprovision;
    expect(hook.posix).toEqual({ shell: "sh", run: "node infra/hooks/keyVaultCreateMode.mjs" });
    expect(hook.windows).toEqual({ shell: "pwsh", run: "node infra/hooks/keyVaultCreateMode.mjs" });
    expect(existsSync(join(PROJECT_ROOT, "infra", "hooks", "keyVaultCreateMode.mjs"))).toBe(true);
  });

  it("reads only the YAML it understands (a list is an error, not a guess)", () => {
    expect(functionServices(parseYamlMap("services:\n  a:\n    host: function\n    language: js\n    remoteBuild: true\n"))).toEqual([{ name: "a", project: ".", dist: undefined, language: "js", host: "function", remoteBuild: true }]);
    expect(() => parseYamlMap("services:\n  - a\n")).toThrow(/line 2: not in the YAML subset/);
  });
});
