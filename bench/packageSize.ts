import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { deflateRawSync } from "node:zlib";
import ignore, { type Ignore } from "ignore";
import { figure, ROOT } from "./lib";

/** .funcignore uses gitignore syntax, which the `ignore` package implements (as the infra tests read it). */
function funcignore(root: string): Ignore {
  return ignore().add(readFileSync(join(root, ".funcignore"), "utf8"));
}

function walk(root: string, dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === ".git" || name === "node_modules") continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(root, full, out);
    else out.push(relative(root, full));
  }
  return out;
}

/** The files a zip deploy uploads: every file under the project that .funcignore keeps. */
export function deployFiles(root = ROOT): string[] {
  const rules = funcignore(root);
  return walk(root, root).filter((file) => !rules.ignores(file));
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
