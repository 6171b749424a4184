import { children, parameters, stringLiteral } from "../support/bicep";
import { infraFile } from "./infra";

/**
 * The region prompt: main.bicep accepts only the regions that offer the Flex Consumption
 * plan (its comment says from where and when), as Microsoft's azd templates do, so that a
 * region without it fails before anything is created instead of at plan creation.
 */
describe("region (main.bicep location)", () => {
  it("is limited with @allowed to Flex Consumption regions, and azd still prompts for it as a location", async () => {
    const main = await infraFile("main.bicep");
    const location = parameters(main).find((param) => param.name === "location");
    const allowed = location?.decorators.get("allowed")?.childForFieldName("arguments");
    const regions = allowed ? children(children(allowed)[0]).map((item) => stringLiteral(item)) : [];
    // A sample, not the list: regions that have offered it since Flex Consumption became GA.
    expect(regions).toEqual(expect.arrayContaining(["eastus", "eastus2", "westeurope", "northeurope", "swedencentral", "australiaeast", "southeastasia", "uksouth"]));
    expect(regions.length).toBeGreaterThanOrEqual(25);
    // Azure's short names: lower case, no spaces; each once; no canary (EUAP) region.
    for (const region of regions) expect({ region, ok: /^[a-z]+[0-9]?$/.test(region ?? "") && !/euap$/.test(region ?? "") }).toEqual({ region, ok: true });
    expect(new Set(regions).size).toBe(regions.length);
    expect(location?.decorators.get("metadata")?.text).toMatch(/azd:\s*\{\s*type:\s*'location'/);
  });

  it("says where the list comes from and when it was read", async () => {
    const main = await infraFile("main.bicep");
    expect(main.text).toMatch(/Source, read \d{4}-\d{2}-\d{2}:[^]*functions-quickstart-typescript-azd[^]*list-flexconsumption-locations[^]*@allowed/);
  });
});
