import { existsSync } from "node:fs";
import { join, posix } from "node:path";
import { anchors, codeSpans, docPages, linkTargets, readDoc, ROOT } from "./markdown";

/** Folders of this repository whose paths the docs may name in code spans. */
const SOURCE_FOLDERS = /^(functions|shared|cli|simulator|test|bench|infra|docs)\/[\w./-]*$/;

/** Links and paths in README.md and docs/ lead somewhere: pages and folders move, docs follow. */
describe.each(docPages())("%s", (page) => {
  const markdown = readDoc(page);

  it("links only to files that exist, and to headings they have", () => {
    const broken: string[] = [];
    for (const target of linkTargets(markdown)) {
      if (/^[a-z]+:/i.test(target)) continue;
      const [path, anchor] = target.split("#");
      const file = path === "" ? page : posix.normalize(posix.join(posix.dirname(page), path));
      if (!existsSync(join(ROOT, file))) {
        broken.push(`${target}: no file ${file}`);
        continue;
      }
      if (anchor !== undefined && file.endsWith(".md") && !anchors(readDoc(file)).has(anchor)) {
        broken.push(`${target}: no heading #${anchor} in ${file}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("names only source paths that exist", () => {
    const paths = codeSpans(markdown).filter((span) => SOURCE_FOLDERS.test(span));
    expect(paths.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
  });
});

