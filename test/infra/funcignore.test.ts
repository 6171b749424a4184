import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ignore from "ignore";
import { PROJECT_ROOT } from "./infra";

/**
 * .funcignore decides what azd (and func) put in the deployment package; it uses gitignore
 * syntax, which the `ignore` package implements. The package is the prebuilt bundle
 * (build.mjs): these tests pin what the Functions host needs against package.json and
 * dist/, so a change that .funcignore would drop fails here, not in Azure.
 */
const funcignore = ignore().add(readFileSync(join(PROJECT_ROOT, ".funcignore"), "utf8"));
const shipped = (path: string): boolean => !funcignore.ignores(path);
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { main: string };

describe(".funcignore", () => {
  it("ships host.json, package.json, package.json main and the engine bundle it loads", () => {
    for (const path of ["host.json", "package.json", pkg.main.replace(/^\.\//, ""), "dist/engine.js"]) {
      expect({ path, shipped: shipped(path) }).toEqual({ path, shipped: true });
    }
  });

  it("ships every lazily loaded vendor bundle the build made", () => {
    const vendor = readdirSync(join(PROJECT_ROOT, "dist", "vendor")).filter((f) => f.endsWith(".js"));
    expect(vendor.length).toBeGreaterThan(0);
    for (const file of vendor) expect({ file, shipped: shipped(`dist/vendor/${file}`) }).toEqual({ file, shipped: true });
  });

  it("leaves out node_modules, sources, the unbundled build, tests, infra, benchmarks, maps and local settings", () => {
    for (const path of [
      "node_modules/axios/index.js",
      "shared/engine/engine.ts",
      "dist/shared/engine/engine.js",
      "dist/cli/bin.js",
      "test/unit/diff.test.ts",
      "infra/main.bicep",
      "bench/run.ts",
      "dist/main.js.map",
      "dist/vendor/identity.js.map",
      "local.settings.json",
      ".ci/run",
      "azure.yaml",
      "README.md",
    ]) {
      expect({ path, shipped: shipped(path) }).toEqual({ path, shipped: false });
    }
  });
});
