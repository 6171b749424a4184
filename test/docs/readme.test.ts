import { docPages, linkTargets, readDoc } from "./markdown";

/** The README is the front door: short, and it names the commands a newcomer runs. */
describe("README.md", () => {
  const readme = readDoc("README.md");

  it("stays at most 1,300 words (wc -w)", () => {
    expect(readme.split(/\s+/).filter(Boolean).length).toBeLessThanOrEqual(1300);
  });

  it("names the commands to try it and to deploy it", () => {
    for (const command of ["npm ci && npm run demo", "npm ci && npm test", "azd up"]) expect(readme).toContain(command);
  });

  it("links to every page of docs/", () => {
    const linked = new Set(linkTargets(readme).map((target) => target.replace(/#.*$/, "")));
    expect(docPages().filter((page) => page !== "README.md" && !linked.has(page))).toEqual([]);
  });
});
