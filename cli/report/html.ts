/**
 * Text into HTML (and SVG): history holds values that came from outside (Partner Center
 * answers, error descriptions, desired rows anyone with table access can write), so every
 * piece of text in the report goes through here, in element content and in attributes alike.
 */
const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** 2026-05-04T10:00:12.345Z → 2026-05-04 10:00:12 UTC, in a <time> element. */
export function timeTag(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return escapeHtml(iso);
  return `<time datetime="${escapeHtml(date.toISOString())}">${escapeHtml(date.toISOString().slice(0, 19).replace("T", " "))} UTC</time>`;
}
