/**
 * GET /api/status?<query> as the Function App answers it, in a fresh process, from the build
 * at argv[2] (this build's dist, or an older build's, for a before/after in one run): the
 * engine and the HTTP handler are required from that build. Prints the answer's size.
 */
async function main(): Promise<void> {
  const [root, query] = process.argv.slice(2);
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { loadSettings } = require(`${root}/shared/config`);
  const { Engine } = require(`${root}/shared/engine`);
  const { silentLogger } = require(`${root}/shared/core`);
  const { statusResponse } = require(`${root}/shared/host/httpApi`);
  /* eslint-enable @typescript-eslint/no-require-imports */
  const engine = new Engine(loadSettings(process.env));
  const res = await statusResponse(engine, silentLogger, new URLSearchParams(query));
  process.stdout.write(`${res.status ?? 200} ${JSON.stringify(res.jsonBody).length}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
