import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GENERATED_BLOCKS } from "./generatedBlocks";
import { readDoc, ROOT, withGeneratedBlock } from "./markdown";

/** `npm run docs`: rewrites every generated block of docs/ from the code. */
for (const block of GENERATED_BLOCKS) {
  const before = readDoc(block.file);
  const after = withGeneratedBlock(before, block.name, block.render());
  if (after !== before) writeFileSync(join(ROOT, block.file), after);
  process.stdout.write(`${block.file}: ${block.name} ${after === before ? "unchanged" : "rewritten"}\n`);
}
