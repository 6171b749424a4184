import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { deflateRawSync } from "node:zlib";
import { figure, ROOT } from "./lib";

interface Rule {
  negate: boolean;
  dirOnly: boolean;
  anchored: boolean;
  re: RegExp;
}

/** .funcignore in gitignore's terms: `*` globs, `/`-anchored paths, trailing `/` for folders, `!` re-includes. */
function ignoreRules(): Rule[] {
  const lines = readFileSync(join(ROOT, ".funcignore"), "utf8").split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  return lines.map((line) => {
    const negate = line.startsWith("!");
    let raw = negate ? line.slice(1) : line;
    const dirOnly = raw.endsWith("/");
    raw = raw.replace(/\/$/, "");
    const anchored = raw.includes("/");
    raw = raw.replace(/^\//, "");
    const body = raw.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*/g, "\u0000").replace(/\*/g, "[^/]*").replace(/\u0000/g, ".*");
    return { negate, dirOnly, anchored, re: new RegExp(`^${body}$`) };
  });
}

function ignored(rules: Rule[], path: string, isDir: boolean): boolean {
  let result = false;
  const base = path.slice(path.lastIndexOf("/") + 1);
  for (const rule of rules) {
    if (rule.dirOnly && !isDir) continue;
    if (rule.re.test(rule.anchored ? path : base)) result = !rule.negate;
  }
  return result;
}

/** As git does: a file whose folder is ignored cannot be re-included. */
function kept(rules: Rule[], file: string): boolean {
  const parts = file.split("/");
  for (let i = 1; i < parts.length; i++) if (ignored(rules, parts.slice(0, i).join("/"), true)) return false;
  return !ignored(rules, file, false);
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === ".git") continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else out.push(relative(ROOT, full));
  }
  return out;
}

/** The files a zip deploy uploads: every file under the project that .funcignore keeps. */
export function deployFiles(root = ROOT): string[] {
  const rules = ignoreRules();
  return walk(root).filter((file) => kept(rules, file));
}

/** What a zip deploy would upload, deflated as zip does. */
export function packageSize(): { files: number; zipBytes: number; rawBytes: number } {
  const files = deployFiles();
  let zipBytes = 22; // end of central directory
  let rawBytes = 0;
  for (const file of files) {
    const data = readFileSync(join(ROOT, file));
    rawBytes += data.length;
    // local header + central directory entry (30 + 46 bytes + the name twice) + data
    zipBytes += 76 + 2 * Buffer.byteLength(file) + Math.min(data.length, deflateRawSync(data, { level: 9 }).length);
  }
  figure("package_files", files.length, "files");
  figure("package_zip_size", zipBytes / (1024 * 1024), "MiB");
  figure("package_unzipped_size", rawBytes / (1024 * 1024), "MiB");
  if (process.env.BENCH_LIST_PACKAGE) process.stdout.write(files.map((f) => `  ${f}\n`).join(""));
  return { files: files.length, zipBytes, rawBytes };
}
