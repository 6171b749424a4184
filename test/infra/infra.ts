import { join } from "node:path";
import { children, descendants, entries, loadBicepFiles, property, type BicepFile, type Node } from "../support/bicep";

/** The project's infra folder, and the files the infra tests read from the project root. */
export const PROJECT_ROOT = join(__dirname, "..", "..");
export const INFRA_DIR = join(PROJECT_ROOT, "infra");

let loaded: Promise<BicepFile[]> | undefined;

/** Every .bicep file under infra/, parsed once per test file. */
export function infraFiles(): Promise<BicepFile[]> {
  loaded ??= loadBicepFiles(INFRA_DIR);
  return loaded;
}

export async function infraFile(name: string): Promise<BicepFile> {
  const file = (await infraFiles()).find((candidate) => candidate.name === name);
  if (!file) throw new Error(`infra/${name} not found`);
  return file;
}

/** The params a file passes to one of its modules, as name → expression text (`= if (...)` modules too). */
export function moduleParams(file: BicepFile, symbol: string): Map<string, string> {
  const node = descendants(file.root, "module_declaration").find((candidate) => children(candidate)[0]?.text === symbol);
  if (!node) throw new Error(`${file.name}: no module ${symbol}`);
  const value = children(node).at(-1);
  const body = value?.type === "if_statement" ? children(value).at(-1) : value;
  return new Map(entries(property(body, "params") ?? ({} as Node)).map((entry) => [entry.key, entry.value.text.replace(/\s+/g, " ")]));
}
