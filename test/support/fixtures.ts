import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { JsonObject } from "../../shared/core/json";

const dir = join(__dirname, "..", "fixtures");

export function fixtureText(name: string): string {
  return readFileSync(join(dir, name), "utf8");
}

export function fixtureJson(name: string): JsonObject {
  return JSON.parse(fixtureText(name)) as JsonObject;
}

/** The project's version as package.json says it, read here rather than through the code under test. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string }).version;
}
