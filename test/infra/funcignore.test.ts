import { readFileSync } from "node:fs";
import { join } from "node:path";
import ignore from "ignore";
import { PROJECT_ROOT } from "./infra";

/**
 * .funcignore decides what azd (and func) put in the deployment package; it uses gitignore
 * syntax, which the `ignore` package implements. These tests pin what the Functions host
 * needs against package.json, so a change of "main" (the coming esbuild bundle) that
 * .funcignore would drop fails here, not in Azure.
 */
const funcignore = ignore().add(readFileSync(join(PROJECT_ROOT, ".funcignore"), "utf8"));
const shipped = (path: string): boolean => !funcignore.ignores(path);
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { main: string };
const tsconfig = JSON.parse(readFileSync(join(PROJECT_ROOT, "tsconfig.json"), "utf8")) as { include: string[] };

describe(".funcignore", () => {
  it("ships host.json, package.json, the lock file and package.json main", () => {
    for (const path of ["host.json", "package.json", "package-lock.json", pkg.main.replace(/^\.\//, "")]) {
      expect({ path, shipped: shipped(path) }).toEqual({ path, shipped: true });
    }
  });

  it("ships the compiled modules main imports", () => {
    for (const path of ["dist/shared/engine.js", "dist/shared/settings.js", "dist/functions/syncHttp.js"]) {
      expect({ path, shipped: shipped(path) }).toEqual({ path, shipped: true });
    }
  });

  it("ships what the remote build compiles, since node_modules is built on Azure", () => {
    expect(shipped("node_modules/axios/index.js")).toBe(false);
    for (const path of ["tsconfig.json", ...tsconfig.include.map((dir) => `${dir}/index.ts`)]) {
      expect({ path, shipped: shipped(path) }).toEqual({ path, shipped: true });
    }
  });

  it("leaves out tests, infra, benchmarks, source maps and local settings", () => {
    for (const path of ["test/unit/diff.test.ts", "infra/main.bicep", "bench/run.ts", "dist/shared/engine.js.map", "local.settings.json", "coverage/lcov.info", ".ci/run", "azure.yaml", "README.md"]) {
      expect({ path, shipped: shipped(path) }).toEqual({ path, shipped: false });
    }
  });
});
