import { join } from "node:path";
import { findCycles, importGraph, type ImportEdge } from "../support/importGraph";

/**
 * The shape of the code, checked: no import cycles (type-only imports count: they tie two
 * files together as much as any other), shared/ folders layered in one order, and other
 * folders reaching into a shared/ folder only through its index.ts, which names what the
 * rest of the code may use.
 */
const ROOT = join(__dirname, "..", "..");
const SOURCE_FOLDERS = ["functions", "shared", "cli", "simulator", "bench"];
/** Each shared/ folder may import only from folders before it. */
const LAYERS = ["core", "model", "partnerCenter", "config", "auth", "stores", "engine", "telemetry", "host"];

const { files, edges } = importGraph(ROOT, SOURCE_FOLDERS);
const show = (e: ImportEdge) => `${e.from}:${e.line} imports ${e.to}`;
/** shared/<folder>/... -> <folder>; anything else -> its top folder. */
function folderOf(file: string): string {
  const parts = file.split("/");
  return parts[0] === "shared" && parts.length > 2 ? parts[1] : parts[0];
}

describe("import graph", () => {
  it("reads the sources (the check is not vacuous)", () => {
    expect(files.length).toBeGreaterThan(60);
    expect(edges.length).toBeGreaterThan(150);
    expect(edges.some((e) => e.typeOnly)).toBe(true);
    expect(edges.some((e) => e.from === "functions/lazyHandlers.ts" && !e.typeOnly)).toBe(true);
  });

  it("has no cycle between files", () => {
    expect(findCycles(files, edges)).toEqual([]);
  });

  it("finds a cycle when there is one", () => {
    expect(findCycles(["a", "b", "c"], [{ from: "a", to: "b" }, { from: "b", to: "c" }, { from: "c", to: "a" }])).toEqual([["a", "b", "c"]]);
    expect(findCycles(["a", "b"], [{ from: "a", to: "b" }])).toEqual([]);
  });

  it("has every shared/ folder in the layer list, and nothing loose in shared/", () => {
    const sharedFolders = new Set(files.filter((f) => f.startsWith("shared/")).map(folderOf));
    expect([...sharedFolders].sort()).toEqual([...LAYERS].sort());
  });

  it("layers shared/: a folder imports only from folders before it in LAYERS", () => {
    const upward = edges.filter((e) => {
      if (!e.from.startsWith("shared/") || !e.to.startsWith("shared/")) return false;
      const from = LAYERS.indexOf(folderOf(e.from));
      const to = LAYERS.indexOf(folderOf(e.to));
      return to > from;
    });
    expect(upward.map(show)).toEqual([]);
  });

  it("enters a shared/ folder from outside only through its index.ts", () => {
    const sideDoors = edges.filter((e) => e.to.startsWith("shared/") && folderOf(e.from) !== folderOf(e.to) && !e.to.endsWith("/index.ts"));
    expect(sideDoors.map(show)).toEqual([]);
  });

  it("keeps shared/ out of the CLI, the triggers and the simulator", () => {
    const inward = edges.filter((e) => e.from.startsWith("shared/") && !e.to.startsWith("shared/"));
    expect(inward.map(show)).toEqual([]);
  });
});
