// Builds the deployment package: dist/deploy/ is exactly what azd zips and the Functions
// host runs (azure.yaml `dist: dist/deploy`), and nothing else:
// - host.json, and a package.json whose "main" is the entry and which has no dependencies;
// - main.js: the trigger registrations and @azure/functions only, so the worker indexes the
//   functions fast (cold start);
// - engine.js: everything a trigger runs, loaded on its first invocation;
// - vendor/*.js: packages the engine needs only in some configurations (identity-based
//   storage, the fan-out queue, status's schedule, telemetry), loaded only when used.
// Each bundle carries its packages' licence comments at its end. Source maps go to
// dist/sourcemaps/ (they are not needed to run). @azure/functions-core is provided by the
// host at run time, so it stays external.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { build } from "esbuild";

export const DEPLOY_DIR = "dist/deploy";
const MAPS_DIR = "dist/sourcemaps";

/** Package → the file it is bundled to under dist/deploy/vendor. */
export const LAZY_PACKAGES = {
  "@azure/identity": "identity",
  "@azure/keyvault-secrets": "keyvault-secrets",
  "@azure/storage-queue": "storage-queue",
  "cron-parser": "cron-parser",
};

const common = {
  bundle: true,
  platform: "node",
  // The oldest Node the code supports locally (package.json engines); Azure runs 22.
  target: "node20",
  format: "cjs",
  minify: true,
  sourcemap: "external",
  external: ["@azure/functions-core"],
  metafile: true,
  logLevel: "warning",
  legalComments: "eof",
  write: false,
};

/** Rewrites imports of other bundles to their file next to the importer. */
function siblings(map) {
  return {
    name: "siblings",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        for (const [pattern, path] of map) if (pattern.test(args.path)) return { path, external: true };
        return undefined;
      });
    },
  };
}

const packagePattern = (pkg) => new RegExp(`^${pkg.replace("/", "\\/")}$`);
const vendorMap = Object.entries(LAZY_PACKAGES).map(([pkg, file]) => [packagePattern(pkg), `./vendor/${file}.js`]);
// The Application Insights exporter and the OpenTelemetry SDK, loaded only when
// APPLICATIONINSIGHTS_CONNECTION_STRING is set (shared/telemetry/facade.ts requires ./exporter).
const telemetryBundle = [/^\.\/exporter$/, "./vendor/telemetry.js"];
const out = (file) => join(DEPLOY_DIR, file);

// A fresh folder every build: a bundle that is no longer built must not linger in the package.
rmSync(DEPLOY_DIR, { recursive: true, force: true });
rmSync(MAPS_DIR, { recursive: true, force: true });

const outputs = await Promise.all([
  build({ ...common, entryPoints: ["functions/index.ts"], outfile: out("main.js"), plugins: [siblings([[/\/shared\/host$/, "./engine.js"]])] }),
  build({ ...common, entryPoints: ["shared/host/index.ts"], outfile: out("engine.js"), plugins: [siblings([...vendorMap, telemetryBundle])] }),
  build({
    ...common,
    entryPoints: ["shared/telemetry/exporter.ts"],
    outfile: out("vendor/telemetry.js"),
    plugins: [siblings(Object.entries(LAZY_PACKAGES).map(([pkg, file]) => [packagePattern(pkg), `./${file}.js`]))],
  }),
  ...Object.entries(LAZY_PACKAGES).map(([pkg, file]) =>
    build({ ...common, stdin: { contents: `module.exports = require(${JSON.stringify(pkg)});`, resolveDir: ".", loader: "js" }, outfile: out(`vendor/${file}.js`) }),
  ),
]);

for (const result of outputs) {
  for (const file of result.outputFiles) {
    const target = file.path.endsWith(".map") ? join(MAPS_DIR, relative(DEPLOY_DIR, file.path)) : file.path;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.contents);
  }
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (file.endsWith(".js")) console.log(`${file} bundled: ${(output.bytes / 1024).toFixed(0)} KiB`);
  }
}

// The host reads host.json and package.json "main"; the bundles need no node_modules, so the
// package.json declares no dependency (nothing to install, locally or remotely).
const root = JSON.parse(readFileSync("package.json", "utf8"));
const deployed = { name: root.name, version: root.version, private: true, description: root.description, license: root.license, main: "main.js", engines: root.engines };
writeFileSync(out("package.json"), `${JSON.stringify(deployed, null, 2)}\n`);
writeFileSync(out("host.json"), readFileSync("host.json"));
