import type { Command } from "commander";
import { buildProgram } from "../../cli/main";
import { readDoc, tableRows, unquote } from "./markdown";

const HEADER = "| command | what it does | exit code |";

/**
 * Every command that runs something (a leaf of the tree), as "desired adopt" -> its long
 * options. A group (desired, auth) has no row of its own (a command with options and subcommands, history, has): its subcommands' rows name it.
 */
function programCommands(command: Command, prefix: string[] = []): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const sub of command.commands) {
    const path = [...prefix, sub.name()];
    if (sub.commands.length > 0) {
      for (const [name, options] of programCommands(sub, path)) out.set(name, options);
      // A command that runs something and has subcommands too (history, history prune) has a row of its own.
      if (sub.options.length > 0) out.set(path.join(" "), sub.options.map((option) => option.long ?? option.flags).sort());
    } else {
      out.set(path.join(" "), sub.options.map((option) => option.long ?? option.flags).sort());
    }
  }
  return out;
}

/** The table's first column, e.g. `billing-sync restore --run R [--target T]` -> "restore" -> ["--run", "--target"]. */
function documentedCommands(markdown: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [usage] of tableRows(markdown, HEADER)) {
    const words = unquote(usage).split(/\s+/);
    if (words[0] !== "billing-sync") throw new Error(`A command row must start with billing-sync: ${usage}`);
    const path: string[] = [];
    for (const word of words.slice(1)) {
      if (!/^[a-z]/.test(word)) break;
      path.push(word);
    }
    const options = [...new Set(unquote(usage).match(/--[a-z][a-z-]*/g) ?? [])].sort();
    out.set(path.join(" "), options);
  }
  return out;
}

/** docs/operations.md's command table against the commander program the CLI runs. */
describe("docs/operations.md command table", () => {
  const program = buildProgram({ stdout: () => undefined, stderr: () => undefined, env: {} }).program;
  const inProgram = programCommands(program);
  const inDocs = documentedCommands(readDoc("docs/operations.md"));

  it("lists every command of the program, and only those", () => {
    expect([...inDocs.keys()].sort()).toEqual([...inProgram.keys()].sort());
  });

  it("lists every option of each command, and only those", () => {
    for (const [name, options] of inProgram) expect({ name, options: inDocs.get(name) }).toEqual({ name, options });
  });
});
