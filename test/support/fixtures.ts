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
