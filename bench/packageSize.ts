import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { azdZipFiles, packageDir, theFunctionService } from "./azdPackage";
import { figure, ROOT } from "./lib";

/** The package folder azd zips (azure.yaml `project` + `dist`) and the files it puts in the zip. */
export function deployPackage(root = ROOT): { dir: string; files: string[] } {
  const service = theFunctionService(root);
  const dir = packageDir(root, service);
  return { dir, files: azdZipFiles(dir, service) };
}

/** What azd would upload, deflated as zip does. */
export function packageSize(): { files: number; zipBytes: number; rawBytes: number } {
  const { dir, files } = deployPackage();
  let zipBytes = 22; // end of central directory
  let rawBytes = 0;
  for (const file of files) {
    const data = readFileSync(join(dir, file));
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

// `npm run package:size`: the package's files and sizes, without the rest of the bench.
if (require.main === module) {
  process.env.BENCH_LIST_PACKAGE ??= "1";
  packageSize();
}
