import { SyncError } from "../core";

/**
 * Target names become Table PartitionKeys and appear in filters and URLs, so they are
 * held to a small alphabet rather than escaped: letters, digits, '.', '_' and '-',
 * starting with a letter or digit, at most 63 characters.
 */
const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const DEFAULT_TARGET = "default";

export function checkTargetName(name: unknown): string {
  if (typeof name !== "string" || !TARGET_NAME.test(name)) {
    // Quoted and escaped (JSON leaves DEL, C1 controls and U+2028/9 raw): the name reaches logs and clients.
    const shown = typeof name === "string"
      ? JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
      : typeof name;
    throw new SyncError(
      "InvalidTargetName",
      `Target name ${shown} is not allowed: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
      { statusCode: 400 },
    );
  }
  return name;
}
