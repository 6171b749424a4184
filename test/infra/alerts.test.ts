import { children, literal, parameters, property, propertyAt, resolveString, resourcesOfType, type ResourceDeclaration } from "../support/bicep";
import { infraFile, infraFiles, moduleParams } from "./infra";
import { FAILED_SYNC_ALERT_OUTCOMES, OUTCOME_CLASSES, OUTCOMES } from "../../shared/model";

/** Telemetry names fixed in the cross-issue contract (what the telemetry issue emits). */
const SYNC_RUN_TRACE = "BillingProfileSyncRun";
const DRIFT_CORRECTED_EVENT = "BillingProfileDriftCorrected";
const CUSTOMER_GONE_EVENT = "CustomerGone";
const TOKEN_ROTATED_EVENT = "PartnerCenterRefreshTokenRotated";
const MASS_DRIFT_HELD_EVENT = "MassDriftHeld";
const FAILED_OUTCOMES = ["failed", "conflict", "invalid-desired", "not-converged"];

/** The outcome literals a query compares with (`outcome in (...)`, `customDimensions.outcome) == "..."`), comments left out. */
function outcomesIn(query: string): string[] {
  const code = query.replace(/\/\/.*$/gm, "");
  const values: string[] = [];
  for (const m of code.matchAll(/outcome\)?\s*==\s*"([^"]*)"/g)) values.push(m[1]);
  for (const m of code.matchAll(/outcome\)?\s+in\s*\(([^)]*)\)/g)) for (const v of m[1].matchAll(/"([^"]*)"/g)) values.push(v[1]);
  return [...new Set(values)].sort();
}

interface Rule {
  symbol: string;
  query: string;
  resource: ResourceDeclaration;
}

async function rules(): Promise<Rule[]> {
  const alerts = await infraFile("core/alerts.bicep");
  return resourcesOfType([alerts], "Microsoft.Insights/scheduledQueryRules").map((resource) => {
    const criteria = propertyAt(resource.body, "properties", "criteria", "allOf");
    const first = criteria ? children(criteria)[0] : undefined;
    return { symbol: resource.symbol, query: resolveString(alerts, property(first, "query")) ?? "", resource };
  });
}

function ruleMatching(all: Rule[], ...needles: string[]): Rule | undefined {
  return all.find((rule) => needles.every((needle) => rule.query.includes(needle)));
}

describe("alerts", () => {
  it("are log search alert rules with a readable query each", async () => {
    const all = await rules();
    expect(all.length).toBeGreaterThanOrEqual(5);
    for (const rule of all) {
      expect({ rule: rule.symbol, kind: literal(property(rule.resource.body, "kind")), hasQuery: rule.query.length > 20 }).toEqual({ rule: rule.symbol, kind: "LogAlert", hasQuery: true });
      expect(literal(propertyAt(rule.resource.body, "properties", "enabled"))).toBe(true);
    }
  });

  it("fire on a failed sync run: every failing outcome of the contract", async () => {
    const rule = ruleMatching(await rules(), `"${SYNC_RUN_TRACE}"`, ...FAILED_OUTCOMES.map((outcome) => `"${outcome}"`));
    expect(rule?.query).toMatch(/^traces\b/);
  });

  it("fire on a failed sync run for exactly the outcomes outcomeClass.ts sends to it: not held, gone, uncertain, interrupted or deferred", async () => {
    const rule = ruleMatching(await rules(), `"${SYNC_RUN_TRACE}"`, ...FAILED_OUTCOMES.map((outcome) => `"${outcome}"`));
    expect(outcomesIn(rule?.query ?? "")).toEqual([...FAILED_SYNC_ALERT_OUTCOMES].sort());
    expect(FAILED_SYNC_ALERT_OUTCOMES).toEqual(expect.arrayContaining(FAILED_OUTCOMES));
    for (const outcome of ["held", "gone", "uncertain", "interrupted", "deferred"]) expect(outcomesIn(rule?.query ?? "")).not.toContain(outcome);
  });

  it("count as runs for the refresh-token rotation exactly the outcomes that surely reached Partner Center", async () => {
    const rule = ruleMatching(await rules(), `"${TOKEN_ROTATED_EVENT}"`, `"${SYNC_RUN_TRACE}"`);
    const reached = OUTCOMES.filter((o) => OUTCOME_CLASSES[o].reachedPartnerCenter);
    expect(outcomesIn(rule?.query ?? "")).toEqual([...reached].sort());
    expect(reached).toEqual(expect.arrayContaining(["held", "uncertain", "gone"]));
  });

  it("fire when drift was corrected", async () => {
    expect(ruleMatching(await rules(), `"${DRIFT_CORRECTED_EVENT}"`)?.query).toMatch(/^customEvents\b/);
  });

  it("fire once per sweep that held targets at its PUT limit (mass drift), naming the sweep", async () => {
    const rule = ruleMatching(await rules(), `"${MASS_DRIFT_HELD_EVENT}"`);
    expect(rule?.query).toMatch(/^customEvents\b/);
    expect(rule?.query).toContain("sweepId");
    const dimensions = propertyAt(children(propertyAt(rule?.resource.body, "properties", "criteria", "allOf")!)[0], "dimensions");
    expect(children(dimensions!).map((d) => literal(property(d, "name")))).toEqual(["sweepId"]);
  });

  it("fire once when a departed customer's target is suspended (the CustomerGone event, not each gone run)", async () => {
    const rule = ruleMatching(await rules(), `"${CUSTOMER_GONE_EVENT}"`);
    expect(rule?.query).toMatch(/^customEvents\b/);
    expect(rule?.query).not.toContain('"gone"');
  });

  it("fire when the refresh token fails (AuthError runs)", async () => {
    expect(ruleMatching(await rules(), `"${SYNC_RUN_TRACE}"`, `"AuthError"`)).toBeDefined();
  });

  it("fire when runs happen but the refresh token is not rotated, over the longest window a log alert allows", async () => {
    const rule = ruleMatching(await rules(), `"${TOKEN_ROTATED_EVENT}"`, `"${SYNC_RUN_TRACE}"`);
    expect(rule).toBeDefined();
    const range = propertyAt(rule?.resource.body, "properties", "overrideQueryTimeRange");
    const param = parameters(await infraFile("core/alerts.bicep")).find((candidate) => candidate.name === range?.text);
    // Log search alerts look back 2 days at most; the 7 days of the contract cannot be queried.
    expect(literal(param?.defaultValue)).toBe("P2D");
  });

  it("all go to the action group, whose e-mail address is a parameter the deployer must give", async () => {
    const alerts = await infraFile("core/alerts.bicep");
    const [group] = resourcesOfType([alerts], "Microsoft.Insights/actionGroups");
    const receivers = propertyAt(group.body, "properties", "emailReceivers");
    const address = property(receivers ? children(receivers)[0] : undefined, "emailAddress");
    expect(address?.type).toBe("identifier");
    expect(parameters(alerts).map((param) => param.name)).toContain(address?.text);

    for (const rule of await rules()) {
      const groups = propertyAt(rule.resource.body, "properties", "actions", "actionGroups");
      expect({ rule: rule.symbol, groups: groups ? children(groups).map((node) => node.text) : [] }).toEqual({ rule: rule.symbol, groups: [`${group.symbol}.id`] });
    }

    // main.bicep: a required parameter (no default), passed through to the module.
    const main = await infraFile("main.bicep");
    const email = parameters(main).find((param) => param.name === "alertEmail");
    expect(email).toBeDefined();
    expect(email?.defaultValue).toBeUndefined();
  });

  it("query the Application Insights component the app sends to", async () => {
    const files = await infraFiles();
    expect(resourcesOfType(files, "Microsoft.Insights/components").filter((component) => !component.existing)).toHaveLength(1);
    const alerts = await infraFile("core/alerts.bicep");
    const [component] = resourcesOfType([alerts], "Microsoft.Insights/components");
    expect({ existing: component.existing, name: property(component.body, "name")?.text }).toEqual({ existing: true, name: "applicationInsightsName" });
    for (const rule of await rules()) {
      const scopes = propertyAt(rule.resource.body, "properties", "scopes");
      expect(scopes ? children(scopes).map((node) => node.text) : []).toEqual([`${component.symbol}.id`]);
    }
    // main.bicep passes the name of the component monitoring.bicep creates.
    const main = await infraFile("main.bicep");
    expect(moduleParams(main, "alerts").get("applicationInsightsName")).toBe("monitoring.outputs.applicationInsightsName");
  });

  it("each query with the rule's own managed identity, which holds Reader on the component it queries", async () => {
    const alerts = await infraFile("core/alerts.bicep");
    const [component] = resourcesOfType([alerts], "Microsoft.Insights/components");
    const assignments = resourcesOfType([alerts], "Microsoft.Authorization/roleAssignments");
    const all = await rules();
    expect(all.length).toBe(6);
    for (const rule of all) {
      expect({ rule: rule.symbol, identity: literal(propertyAt(rule.resource.body, "identity", "type")) }).toEqual({ rule: rule.symbol, identity: "SystemAssigned" });
      // Its identity cannot read when the rule is created: the service must not validate the query then (npm test does).
      expect({ rule: rule.symbol, skip: literal(propertyAt(rule.resource.body, "properties", "skipQueryValidation")) }).toEqual({ rule: rule.symbol, skip: true });
      const reader = assignments.filter((assignment) => propertyAt(assignment.body, "properties", "principalId")?.text === `${rule.symbol}.identity.principalId`);
      expect({ rule: rule.symbol, readers: reader.length }).toEqual({ rule: rule.symbol, readers: 1 });
      expect({
        rule: rule.symbol,
        scope: property(reader[0].body, "scope")?.text,
        role: propertyAt(reader[0].body, "properties", "roleDefinitionId")?.text,
        principalType: literal(propertyAt(reader[0].body, "properties", "principalType")),
        conditional: reader[0].conditional,
      }).toEqual({
        rule: rule.symbol,
        scope: component.symbol,
        role: "subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.reader)",
        principalType: "ServicePrincipal",
        conditional: false,
      });
    }
  });
});
