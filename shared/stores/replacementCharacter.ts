import { SyncError } from "../core";

/**
 * U+FFFD is what a decoder writes for bytes it could not read: in a desired row it means the
 * file was read in the wrong encoding ("J\uFFFDrgen" for a Windows-1252 "Jürgen"), and a sync
 * would carry it into the live profile. The desired store refuses such a row whoever writes
 * it: the last line of defence behind the CLI's strict decoding.
 */
export function refuseReplacementCharacter(target: string, properties: Record<string, unknown>): void {
  const spoilt = fieldsWithReplacementCharacter(properties);
  if (spoilt.length === 0) return;
  throw new SyncError(
    "InvalidDesiredState",
    `The desired state of "${target}" was not written: ${spoilt.join(", ")} ${spoilt.length === 1 ? "holds" : "hold"} U+FFFD, the mark of text read in the wrong encoding. Read the file again with the encoding it was saved in (--encoding windows-1252 for Excel on Windows).`,
  );
}

/** The properties whose text holds U+FFFD, in name order. */
export function fieldsWithReplacementCharacter(properties: Record<string, unknown>): string[] {
  return Object.keys(properties)
    .filter((name) => typeof properties[name] === "string" && (properties[name] as string).includes("\uFFFD"))
    .sort();
}
