/**
 * The secret values this process holds (access and refresh tokens, the client secret, the
 * client assertion), registered by the code that obtains them, so that any text that is
 * stored or shown can be cleaned of them by value: a service that echoes a token back in
 * an error, in whatever shape, is caught. Shape rules (redactSecrets) catch the rest.
 *
 * Process-wide on purpose: a token one run obtained may be echoed in another run's error.
 * Bounded: the newest MAX_SECRETS values are kept (tokens rotate hourly; old ones expire).
 */
const MAX_SECRETS = 256;
/** Shorter values would garble text without protecting anything: real secrets are long. */
const MIN_SECRET_LENGTH = 8;

const known = new Map<string, true>();
let pattern: RegExp | undefined;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The forms a value takes when it is sent or quoted: as is, URL- and form-encoded, JSON-escaped. */
function forms(value: string): string[] {
  return [value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2), JSON.stringify(value).slice(1, -1)];
}

/** Remembers a secret value the process now holds. Safe to call with anything; short values are ignored. */
export function registerSecret(value: unknown): void {
  if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH || known.has(value)) return;
  known.set(value, true);
  if (known.size > MAX_SECRETS) known.delete(known.keys().next().value as string);
  pattern = undefined;
}

/** Replaces every registered secret value (in any of its forms) with "[redacted]". */
export function redactKnownSecrets(text: string): string {
  if (known.size === 0 || text === "") return text;
  if (!pattern) {
    const all = [...new Set([...known.keys()].flatMap(forms))].sort((a, b) => b.length - a.length);
    pattern = new RegExp(all.map(escape).join("|"), "g");
  }
  return text.replace(pattern, "[redacted]");
}
