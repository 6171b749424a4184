import { readdirSync } from "node:fs";
import { join } from "node:path";
import { readDoc, ROOT, tableRows, unquote } from "./markdown";

const HEADER = "| folder | holds | change it for |";

/** docs/layout.md's table of shared/ against the folders and files that are there. */
describe("docs/layout.md", () => {
  const rows = tableRows(readDoc("docs/layout.md"), HEADER).map(([folder, holds]) => ({
    folder: unquote(folder),
    files: [...holds.matchAll(/`([\w.]+\.ts)`/g)].map((m) => m[1]).sort(),
  }));
  const onDisk = readdirSync(join(ROOT, "shared"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `shared/${entry.name}/`);

  it("has a row for every folder of shared/, and only those", () => {
    expect(rows.map((row) => row.folder).sort()).toEqual(onDisk.sort());
  });

  it("names every file of each folder (index.ts aside), and only those", () => {
    for (const { folder, files } of rows) {
      const present = readdirSync(join(ROOT, folder)).filter((name) => name.endsWith(".ts") && name !== "index.ts").sort();
      expect({ folder, files }).toEqual({ folder, files: present });
    }
  });
});
