import { listBicepFiles, parseBicep, syntaxProblems } from "../support/bicep";
import { INFRA_DIR, infraFiles } from "./infra";

describe("Bicep syntax (tree-sitter-bicep grammar)", () => {
  it("finds the entry point and the modules under infra/", async () => {
    const names = (await infraFiles()).map((file) => file.name);
    expect(names).toEqual(expect.arrayContaining(["main.bicep", "app/function.bicep", "core/storage.bicep", "core/rbac.bicep", "core/alerts.bicep"]));
    expect(listBicepFiles(INFRA_DIR).length).toBe(names.length);
  });

  it("parses every .bicep file under infra/ with no ERROR or MISSING node", async () => {
    const files = await infraFiles();
    const problems = files.flatMap(syntaxProblems);
    expect(problems).toEqual([]);
    for (const file of files) expect({ file: file.name, hasError: file.root.hasError }).toEqual({ file: file.name, hasError: false });
  });

  it("reports a syntax error, with its position, in broken Bicep (the check can fail)", async () => {
    const broken = await parseBicep("resource app 'Microsoft.Web/sites@2024-11-01' = {\n  name: 'x'\n  properties: {\n    httpsOnly: \n}\n", "broken.bicep");
    expect(broken.root.hasError).toBe(true);
    expect(syntaxProblems(broken).join("\n")).toMatch(/broken\.bicep: (syntax error|missing .+) at line \d+/);
  });
});
