#!/usr/bin/env node
import { runCli } from "./main";
import { installSignals } from "./signals";

const color = process.stdout.isTTY === true && !process.env.NO_COLOR && !process.argv.includes("--no-color");
const argv = process.argv.slice(2).filter((a) => a !== "--no-color");

void runCli(argv, {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  color,
  stderrIsTTY: process.stderr.isTTY === true,
  signals: installSignals((t) => process.stderr.write(t)),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
}).then((code) => {
  process.exitCode = code;
});
