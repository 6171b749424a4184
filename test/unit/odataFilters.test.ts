import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

/**
 * No Table query is built by string concatenation: every `filter` in the app's source is an
 * `odata` tagged template of @azure/data-tables (which quotes and escapes each value), or a
 * variable whose every possible value is one, or an arrow function that returns one. Checked on the syntax tree (TypeScript
 * compiler API), not by text search; keyed operations (getEntity, deleteEntity...) take
 * keys as arguments and the SDK escapes them.
 */
const ROOT = join(__dirname, "..", "..");
const SOURCE_DIRS = ["shared", "functions", "cli"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

interface Finding {
  file: string;
  line: number;
  problem: string;
}

function isOdata(node: ts.Expression, declarations: Map<string, ts.Expression>): boolean {
  if (ts.isParenthesizedExpression(node)) return isOdata(node.expression, declarations);
  if (ts.isTaggedTemplateExpression(node)) return ts.isIdentifier(node.tag) && node.tag.text === "odata";
  if (ts.isConditionalExpression(node)) return isOdata(node.whenTrue, declarations) && isOdata(node.whenFalse, declarations);
  // A filter built when it is used (the purge's rules, from their cutoffs): an arrow whose body is one.
  if (ts.isArrowFunction(node)) return !ts.isBlock(node.body) && isOdata(node.body, declarations);
  // ...and where such a builder is called (`rule.filter(cutoffs)`): every `filter` property it
  // can be is checked here as a filter itself.
  if (ts.isCallExpression(node)) return ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === "filter";
  if (ts.isIdentifier(node)) {
    const init = declarations.get(node.text);
    return init !== undefined && isOdata(init, declarations);
  }
  return false;
}

/** Every filter and every query-looking string in one source text. */
function checkSource(file: string, text: string): { filters: number; findings: Finding[] } {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const declarations = new Map<string, ts.Expression>();
  const findings: Finding[] = [];
  let filters = 0;
  const at = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
  const collect = (node: ts.Node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) declarations.set(node.name.text, node.initializer);
    ts.forEachChild(node, collect);
  };
  collect(source);
  const QUERY = /\b(PartitionKey|RowKey|Timestamp|\w+)\s+(eq|ne|gt|ge|lt|le)\s+'/;
  const visit = (node: ts.Node) => {
    if (ts.isPropertyAssignment(node) && node.name.getText(source) === "filter") {
      filters++;
      if (!isOdata(node.initializer, declarations)) findings.push({ file, line: at(node), problem: `filter is not an odata\`\` template: ${node.initializer.getText(source).slice(0, 80)}` });
    }
    if (ts.isShorthandPropertyAssignment(node) && node.name.text === "filter") {
      filters++;
      if (!isOdata(node.name, declarations)) findings.push({ file, line: at(node), problem: "filter (shorthand) is not built by odata``" });
    }
    // A query-shaped string outside an odata tag: a filter in the making.
    const untagged = (ts.isTemplateExpression(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isStringLiteral(node)) && !ts.isTaggedTemplateExpression(node.parent);
    if (untagged && QUERY.test(node.getText(source))) findings.push({ file, line: at(node), problem: `query text built without odata: ${node.getText(source).slice(0, 80)}` });
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken && QUERY.test(node.getText(source))) {
      findings.push({ file, line: at(node), problem: "query text concatenated with +" });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { filters, findings };
}

describe("Table filters are built only with the odata tag", () => {
  it("every filter in shared/, functions/ and cli/ is an odata`` template, and no query text is concatenated", () => {
    let filters = 0;
    const findings: Finding[] = [];
    for (const dir of SOURCE_DIRS) {
      for (const file of sourceFiles(join(ROOT, dir))) {
        const result = checkSource(relative(ROOT, file), readFileSync(file, "utf8"));
        filters += result.filters;
        findings.push(...result.findings);
      }
    }
    expect(findings).toEqual([]);
    // listTargets, history list (both branches through one variable), history get.
    expect(filters).toBeGreaterThanOrEqual(3);
  });

  it.each([
    ["a template literal", "c.listEntities({ queryOptions: { filter: `PartitionKey eq '${t}'` } });"],
    ["concatenation", "c.listEntities({ queryOptions: { filter: \"PartitionKey eq '\" + t + \"'\" } });"],
    ["a variable holding a template", "const f = `RowKey eq '${r}'`; c.listEntities({ queryOptions: { filter: f } });"],
    ["one branch not odata", "const filter = x ? odata`PartitionKey eq ${t}` : `PartitionKey eq '${t}'`; c.listEntities({ queryOptions: { filter } });"],
  ])("the check catches a filter built from %s", (_label, text) => {
    expect(checkSource("sample.ts", text).findings.length).toBeGreaterThan(0);
  });

  it("and accepts the odata forms the code uses", () => {
    const text = "const filter = s ? odata`PartitionKey eq ${t} and RowKey lt ${k}` : odata`PartitionKey eq ${t}`; c.listEntities({ queryOptions: { filter } }); c.listEntities({ queryOptions: { filter: odata`RowKey eq ${r}` } });";
    expect(checkSource("sample.ts", text)).toEqual({ filters: 2, findings: [] });
  });
});
