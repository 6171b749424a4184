// Bundles the Functions app for deployment. The host loads dist/main.js (package.json
// "main") and needs nothing from node_modules:
// - dist/main.js: the trigger registrations and @azure/functions only, so the worker
//   indexes the functions fast (cold start);
// - dist/engine.js: everything a trigger runs, loaded on its first invocation;
// - dist/vendor/*.js: packages the engine needs only in some configurations (identity-based
//   storage, the fan-out queue, status's schedule), loaded only when used.
// @azure/functions-core is provided by the host at run time, so it stays external.
import { build } from "esbuild";

/** Package → the file it is bundled to under dist/vendor. */
export const LAZY_PACKAGES = {
  "@azure/identity": "identity",
  "@azure/keyvault-secrets": "keyvault-secrets",
  "@azure/storage-queue": "storage-queue",
  "cron-parser": "cron-parser",
};

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  sourcemap: "external",
  external: ["@azure/functions-core"],
  metafile: true,
  logLevel: "warning",
  legalComments: "linked",
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

const vendorMap = Object.entries(LAZY_PACKAGES).map(([pkg, file]) => [new RegExp(`^${pkg.replace("/", "\\/")}$`), `./vendor/${file}.js`]);
// The Application Insights exporter and the OpenTelemetry SDK, loaded only when
// APPLICATIONINSIGHTS_CONNECTION_STRING is set (shared/telemetry/facade.ts requires ./exporter).
const telemetryBundle = [/^\.\/exporter$/, "./vendor/telemetry.js"];

const outputs = await Promise.all([
  build({ ...common, entryPoints: ["functions/index.ts"], outfile: "dist/main.js", plugins: [siblings([[/\/shared\/host$/, "./engine.js"]])] }),
  build({ ...common, entryPoints: ["shared/host/index.ts"], outfile: "dist/engine.js", plugins: [siblings([...vendorMap, telemetryBundle])] }),
  build({
    ...common,
    entryPoints: ["shared/telemetry/exporter.ts"],
    outfile: "dist/vendor/telemetry.js",
    plugins: [siblings(Object.entries(LAZY_PACKAGES).map(([pkg, file]) => [new RegExp(`^${pkg.replace("/", "\\/")}$`), `./${file}.js`]))],
  }),
  ...Object.entries(LAZY_PACKAGES).map(([pkg, file]) =>
    build({ ...common, stdin: { contents: `module.exports = require(${JSON.stringify(pkg)});`, resolveDir: ".", loader: "js" }, outfile: `dist/vendor/${file}.js` }),
  ),
]);
for (const result of outputs) {
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (file.endsWith(".js")) console.log(`${file} bundled: ${(output.bytes / 1024).toFixed(0)} KiB`);
  }
}
