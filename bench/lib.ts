import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AZURITE_ACCOUNT, AZURITE_KEY } from "../simulator/azurite";

/** Figures are printed as `name value unit` lines; run.ts adds the summary. */
export function figure(name: string, value: number, unit: string): void {
  process.stdout.write(`${name} ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit}\n`);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const ROOT = join(__dirname, "..", "..");

/**
 * Azurite's Table service in its own process, as Table Storage is a remote service for the
 * engine: its CPU time must not be counted as engine overhead.
 */
export async function startAzuriteProcess(): Promise<{ connectionString: string; stop: () => void; pid?: number }> {
  const bin = join(ROOT, "node_modules", "azurite", "dist", "src", "table", "main.js");
  // Azurite prints the port it was given, not the one it got: pick a free one first.
  const free = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const child: ChildProcess = spawn(process.execPath, [bin, "--inMemoryPersistence", "--disableTelemetry", "--silent", "--skipApiVersionCheck", "--tablePort", String(free)], {
    cwd: mkdtempSync(join(tmpdir(), "bench-azurite-")),
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let text = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const match = /successfully started on 127\.0\.0\.1:(\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`azurite exited with ${code}`)));
  });
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT};`,
    stop: () => void child.kill(),
    pid: child.pid,
  };
}

export function randomToken(): string {
  return `bench-${randomBytes(12).toString("hex")}`;
}

/**
 * Runs a node script in a fresh process and returns its stdout (for start-up figures and
 * peak RSS). With `showStderr`, the child's stderr (its progress) goes to ours as it comes.
 */
export function runNode(args: string[], env: NodeJS.ProcessEnv = {}, options: { showStderr?: boolean; onStderr?: (text: string) => void } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the measured children.
    const nodeArgs = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => {
      err += c;
      options.onStderr?.(err);
      if (options.showStderr) process.stderr.write(c);
    });
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`node ${args.join(" ")} exited ${code}: ${err.slice(-500)}`))));
  });
}

/**
 * The most calls in any window of `windowMs`, from cumulative samples ({ at, calls }) taken
 * in time order; a window cut short by the end still counts what it holds.
 */
export function peakInWindow(samples: readonly { at: number; calls: number }[], windowMs: number): number {
  let peak = 0;
  for (const [i, s] of samples.entries()) {
    let j = i;
    while (j + 1 < samples.length && samples[j + 1].at - s.at <= windowMs) j++;
    peak = Math.max(peak, samples[j].calls - s.calls);
  }
  return peak;
}
