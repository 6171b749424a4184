import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * The little Markdown reading the doc tests need: the pages, their links, headings, tables
 * and generated blocks. A parser would do more; these pages are plain enough not to need one.
 */
export const ROOT = packageRoot(__dirname);

// Searched for rather than fixed: `npm run docs` runs this file compiled under .docs/.
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json above ${from}`);
  }
}

/** README.md and every page of docs/, as paths relative to the repository root. */
export function docPages(): string[] {
  const docs = readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return ["README.md", ...docs];
}

export function readDoc(path: string): string {
  return readFileSync(join(ROOT, path), "utf8").replace(/\r\n/g, "\n");
}

/** The text outside fenced code blocks, line numbers kept (fenced lines become empty). */
export function prose(markdown: string): string {
  let fenced = false;
  return markdown
    .split("\n")
    .map((line) => {
      if (line.startsWith("```")) {
        fenced = !fenced;
        return "";
      }
      return fenced ? "" : line;
    })
    .join("\n");
}

/** Code spans of the prose: `like this`. */
export function codeSpans(markdown: string): string[] {
  return [...prose(markdown).matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
}

/** Targets of inline links, [text](target), outside code. */
export function linkTargets(markdown: string): string[] {
  const withoutSpans = prose(markdown).replace(/`[^`\n]*`/g, "");
  return [...withoutSpans.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors a page offers; a repeated heading gets -1, -2, ... as on GitHub. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const match of prose(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = slug(match[1]);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    out.add(count === 0 ? base : `${base}-${count}`);
  }
  return out;
}

/** Cells of a Markdown table row; `\|` stays inside its cell. */
export function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, "|"));
}

/** Body rows of the first table whose header row is `header`, as cells. */
export function tableRows(markdown: string, header: string): string[][] {
  const lines = prose(markdown).split("\n");
  const start = lines.findIndex((line) => line.trim() === header);
  if (start < 0) throw new Error(`No table with the header ${header}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.trim().startsWith("|")) break;
    rows.push(cells(line));
  }
  return rows;
}

/** A cell without the backticks around it. */
export function unquote(cell: string): string {
  return cell.replace(/^`(.*)`$/, "$1");
}

/**
 * A generated block sits between `<!-- NAME: ... -->` and `<!-- end of NAME -->`, with a
 * blank line on either side so that the table inside renders. Returns the text between
 * the two lines without those blank lines, or undefined when the page has no such block.
 */
export function generatedBlock(markdown: string, name: string): string | undefined {
  return blockParts(markdown, name)?.content;
}

/** The page with the block's content replaced (what `npm run docs` writes). */
export function withGeneratedBlock(markdown: string, name: string, content: string): string {
  const parts = blockParts(markdown, name);
  if (!parts) throw new Error(`No generated block "${name}": add <!-- ${name}: ... --> and <!-- end of ${name} --> lines`);
  return `${parts.before}\n${content}\n\n${parts.after}`;
}

function blockParts(markdown: string, name: string): { before: string; content: string; after: string } | undefined {
  const open = new RegExp(`^<!-- ${name}:.*-->\\n`, "m").exec(markdown);
  if (!open) return undefined;
  const from = open.index + open[0].length;
  const close = markdown.indexOf(`<!-- end of ${name} -->`, from);
  if (close < 0) return undefined;
  return { before: markdown.slice(0, from), content: markdown.slice(from, close).replace(/^\n+|\n+$/g, ""), after: markdown.slice(close) };
}
