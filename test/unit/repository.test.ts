import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

describe("the repository", () => {
  it("holds no merge-conflict markers in any tracked text file", () => {
    const files = execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" })
      .split("\n")
      .filter((f) => /\.(ts|js|mjs|json|md|bicep|yaml|yml)$|^\.funcignore$|^\.ci\/run$/.test(f));
    expect(files.length).toBeGreaterThan(50);
    const marked = files.filter((f) => /^(<{7}|>{7}) /m.test(readFileSync(join(ROOT, f), "utf8")));
    expect(marked).toEqual([]);
  });
});
