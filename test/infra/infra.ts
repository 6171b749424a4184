import { join } from "node:path";
import { loadBicepFiles, type BicepFile } from "../support/bicep";

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
