import { readFileSync, writeFileSync } from "node:fs";
import { SyncError } from "../shared/core";

/**
 * The bytes of the files billing-sync reads and writes (desired JSON, CSV, JSON lines) and
 * their text. A file is UTF-8 (a BOM is fine) unless `--encoding` names another encoding
 * Node's TextDecoder knows: Excel's "CSV (comma delimited)" on a European Windows machine
 * is Windows-1252, and read as UTF-8 its "ü" would become U+FFFD and reach a live profile.
 * Decoding is strict: a byte the encoding cannot read is an error naming its line, never a
 * replacement character.
 */

const UTF8 = "utf-8";

/** The encoding's canonical name (TextDecoder's), or a ConfigError naming the option. */
export function checkEncoding(label: string | undefined): string {
  if (label === undefined) return UTF8;
  try {
    return new TextDecoder(label.trim()).encoding;
  } catch {
    throw new SyncError("ConfigError", `--encoding "${label.slice(0, 40)}" is not an encoding Node knows; try utf-8, windows-1252, iso-8859-15 or utf-16le.`);
  }
}

/** The line (1-based) and column (byte, 1-based) of the first byte sequence that is not UTF-8. */
function firstInvalidUtf8(bytes: Uint8Array): { line: number; column: number } | undefined {
  const strict = new TextDecoder(UTF8, { fatal: true });
  // No byte of a multi-byte UTF-8 sequence is a line feed, so each line can be checked alone.
  let start = 0;
  let line = 1;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const slice = bytes.subarray(start, end);
    try {
      strict.decode(slice);
    } catch {
      for (let i = 1; i <= slice.length; i++) {
        try {
          // Streaming: a sequence cut short is not yet an error, a byte that cannot continue it is.
          new TextDecoder(UTF8, { fatal: true }).decode(slice.subarray(0, i), { stream: true });
        } catch {
          return { line, column: i };
        }
      }
      return { line, column: slice.length };
    }
    start = end + 1;
    line++;
  }
  return undefined;
}

/** The byte order marks a UTF-8 reading cannot take, and the encoding each says. */
function utf16Bom(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return "utf-16be";
  return undefined;
}

/**
 * The text of `bytes` in `encoding` (default UTF-8), BOM removed. Bytes that are not of the
 * encoding are an InvalidDesiredState error naming `what` and the line, and suggesting
 * --encoding: never the bytes themselves, which are personal data.
 */
export function decodeText(bytes: Uint8Array, what: string, encoding?: string): string {
  const name = checkEncoding(encoding);
  try {
    return new TextDecoder(name, { fatal: true }).decode(bytes);
  } catch {
    if (name !== UTF8) {
      throw new SyncError("InvalidDesiredState", `${what} is not valid ${name}: some bytes are not characters of that encoding. Give the encoding it was saved in with --encoding.`);
    }
    const bom = utf16Bom(bytes);
    if (bom) throw new SyncError("InvalidDesiredState", `${what} is not UTF-8: it starts with a ${bom.toUpperCase()} byte order mark (Excel's "Unicode Text"). Run again with --encoding ${bom}.`);
    const at = firstInvalidUtf8(bytes);
    throw new SyncError(
      "InvalidDesiredState",
      `${what} is not valid UTF-8${at ? ` (line ${at.line}, byte ${at.column})` : ""}: nothing was written. A CSV saved by Excel on Windows is usually Windows-1252: run again with --encoding windows-1252 (or the encoding the file was saved in).`,
    );
  }
}

/** Reads a file as text: see decodeText. */
export function readTextFile(path: string, encoding?: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SyncError("InvalidDesiredState", `Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
  return decodeText(bytes, path, encoding);
}

/**
 * `text` in `encoding`: UTF-8 and UTF-16 as Node's Buffer writes them; any single-byte
 * encoding TextDecoder knows (windows-1252, iso-8859-15, …) by its own table. A character
 * the encoding cannot hold is an error naming where it is (`where(index)`), not what it is.
 */
export function encodeText(text: string, encoding: string | undefined, where: (index: number) => string): Buffer {
  const name = checkEncoding(encoding);
  if (name === UTF8) return Buffer.from(text, "utf8");
  if (name === "utf-16le") return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
  const table = singleByteTable(name);
  if (!table) throw new SyncError("ConfigError", `--encoding ${name} cannot be written; use utf-8, utf-16le or a single-byte encoding such as windows-1252.`);
  const out = Buffer.alloc(text.length);
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const byte = table.get(text.charCodeAt(i));
    if (byte === undefined) throw new SyncError("ConfigError", `${where(i)} holds a character that ${name} cannot hold; export with --encoding utf-8 (or utf-16le).`);
    out[length++] = byte;
  }
  return out.subarray(0, length);
}

/** Character code to byte for a single-byte encoding; undefined when the encoding is not one. */
function singleByteTable(name: string): Map<number, number> | undefined {
  const table = new Map<number, number>();
  for (let byte = 0; byte < 256; byte++) {
    // Streaming: the lead byte of a multi-byte encoding yields nothing yet.
    const text = new TextDecoder(name).decode(Uint8Array.of(byte), { stream: true });
    if (text.length !== 1) return undefined;
    if (text !== "\uFFFD" && !table.has(text.charCodeAt(0))) table.set(text.charCodeAt(0), byte);
  }
  return table;
}

export function writeTextFile(path: string, content: string | Uint8Array): void {
  try {
    writeFileSync(path, content);
  } catch (err) {
    throw new SyncError("ConfigError", `Cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
}
