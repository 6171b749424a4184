import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkCountryRules, entityFromDocument, parseCountryRules, parseDesiredEntity } from "../../shared/model";
import { docPages, readDoc } from "./markdown";

const MARKER = "<!-- desired-state example";

/** The JSON block after each desired-state marker: what a reader copies into desired.json. */
function desiredExamples(markdown: string): string[] {
  return markdown
    .split(MARKER)
    .slice(1)
    .map((rest) => /```json\n([\s\S]*?)\n```/.exec(rest)?.[1] ?? "");
}

/** A desired-state example that `billing-sync desired set` would refuse would teach the wrong thing. */
describe("desired-state examples", () => {
  const examples = docPages().flatMap((page) => desiredExamples(readDoc(page)).map((json, i) => [`${page} #${i + 1}`, json] as const));

  it("are in the README and in docs/operations.md", () => {
    expect(examples.map(([name]) => name)).toEqual(["README.md #1", "docs/operations.md #1"]);
  });

  it.each(examples)("%s is accepted by desired set", (_name, json) => {
    expect(() => entityFromDocument("default", JSON.parse(json))).not.toThrow();
  });

  // The examples' addresses are in the US: a sync would check them against its recorded rules.
  const US = parseCountryRules(readFileSync(join(__dirname, "..", "fixtures", "country-rules", "US.recorded.json"), "utf8"), "US");
  it.each(examples)("%s keeps the recorded US country rules", (_name, json) => {
    const state = parseDesiredEntity("default", entityFromDocument("default", JSON.parse(json)));
    const changes = [...state.fields].map(([field, to]) => ({ field, from: "", to }));
    expect(checkCountryRules(US, changes).violations).toEqual([]);
  });
});
