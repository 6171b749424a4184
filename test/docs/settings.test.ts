import { SETTING_SPECS } from "../../shared/config/settings";
import { generatedBlock, readDoc, tableRows, unquote } from "./markdown";
import { renderSettingsTable, SETTINGS_TABLE_HEADER } from "./settingsTable";

/** docs/settings.md against SETTING_SPECS, the list of every setting the code reads. */
describe("docs/settings.md", () => {
  const doc = readDoc("docs/settings.md");
  const table = generatedBlock(doc, "settings table") ?? "";
  const documented = new Map(tableRows(table, SETTINGS_TABLE_HEADER).map(([name, , byDefault]) => [unquote(name), unquote(byDefault)]));

  it("holds exactly the table rendered from SETTING_SPECS (npm run docs rewrites it)", () => {
    expect(table).toBe(renderSettingsTable());
  });

  it("lists every setting of SETTING_SPECS with its default", () => {
    const expected = SETTING_SPECS.map((spec) => ({ name: spec.name, default: spec.default ?? "" }));
    const listed = SETTING_SPECS.map((spec) => ({ name: spec.name, default: documented.get(spec.name) }));
    expect(listed).toEqual(expected);
  });

  it("lists no setting SETTING_SPECS does not know", () => {
    const known = new Set(SETTING_SPECS.map((spec) => spec.name));
    expect([...documented.keys()].filter((name) => !known.has(name))).toEqual([]);
  });
});
