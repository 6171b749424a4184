import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AZURITE_ACCOUNT } from "../../simulator/azurite";
import { runSoak } from "./soak";

/**
 * `npm run soak`: the full soak (SOAK_RUNS, default 10,000; SOAK_SEED to replay one), then
 * its figures. Azurite runs in a child process here, so that this process's RSS is the
 * engine's and the simulator's alone, not the table data Azurite keeps in memory.
 * Exit 0 only if no record was lost, no PUT touched an unmanaged field, no rejection went
 * unhandled and every profile ended in its desired state.
 */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

async function startAzuriteProcess(): Promise<{ tableEndpoint: string; stop: () => void }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "billing-sync-soak-"));
  const bin = join(__dirname, "..", "..", "..", "node_modules", "azurite", "dist", "src", "table", "main.js");
  const child: ChildProcess = spawn(process.execPath, [bin, "--inMemoryPersistence", "--silent", "--skipApiVersionCheck", "--disableTelemetry", "--tableHost", "127.0.0.1", "--tablePort", String(port)], {
    cwd: dir,
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (/successfully (listening|started)/i.test(out)) resolve();
    });
    child.on("exit", (code) => reject(new Error(`Azurite exited with ${code}: ${out}`)));
  });
  return {
    tableEndpoint: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`,
    stop: () => {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<number> {
  const runs = Number(process.env.SOAK_RUNS ?? 10_000);
  const seed = process.env.SOAK_SEED ? Number(process.env.SOAK_SEED) : undefined;
  if (!(globalThis as { gc?: unknown }).gc) process.stderr.write("note: run node with --expose-gc for RSS after GC\n");
  const azurite = await startAzuriteProcess();
  try {
    const report = await runSoak({ runs, seed, tableEndpoint: azurite.tableEndpoint, progress: (line) => process.stdout.write(`  ${line}\n`) });
    const { memory, ...figures } = report;
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    process.stdout.write(
      [
        "",
        `runs soaked:                      ${report.runs} (+${report.runsInAll + report.sharedDryRuns - report.runs} final syncs and checks; ${report.sharedDryRuns} dry runs shared), seed ${report.seed}, ${Math.round(report.durationMs / 1000)} s`,
        `faults injected (served):         ${report.faultsTotal} ${JSON.stringify(report.faultsInjected)}`,
        `storage outages:                  ${report.storageOutages.beforeRun} before a run, ${report.storageOutages.betweenGetAndPut} between GET and PUT`,
        `concurrent writes:                ${report.concurrentWrites}`,
        `outcomes:                         ${JSON.stringify(report.outcomes)}`,
        `history rows:                     ${report.historyRows} of ${report.historyRowsExpected} expected; ${report.unrecordedDeliberately} runs unrecorded on purpose, ${report.unrecordedWithErrorLine} with their error line`,
        `records lost:                     ${report.recordsLost}`,
        `PUTs:                             ${report.puts}; touching an unmanaged field: ${report.putsTouchingUnmanaged}; not built from a served body: ${report.putsWithUnknownBase}`,
        `unhandled rejections:             ${report.unhandledRejections}`,
        `profiles in desired state at end: ${report.finalInDesiredState}`,
        `RSS start/end:                    ${memory.start.rssMb} MB / ${memory.end.rssMb} MB (heap ${memory.start.heapUsedMb} MB / ${memory.end.heapUsedMb} MB)`,
        `RSS every 1000 runs:              ${memory.samples.map((s) => s.rssMb).join(", ")} MB`,
        `heap every 1000 runs:             ${memory.samples.map((s) => s.heapUsedMb).join(", ")} MB`,
        "",
      ].join("\n"),
    );
    const ok = report.recordsLost === 0 && report.recordedButMissing === 0 && report.unrecordedUnexplained === 0 && report.putsTouchingUnmanaged === 0 &&
      report.putsWithUnknownBase === 0 && report.unhandledRejections === 0 && report.finalInDesiredState;
    return ok ? 0 : 1;
  } finally {
    azurite.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
