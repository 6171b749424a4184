import {
  argumentsOf,
  calledName,
  children,
  literal,
  parameters,
  parseBicep,
  property,
  resources,
  resourcesOfType,
  stringLiteral,
  variables,
  type BicepFile,
  type Node,
  type ResourceDeclaration,
} from "../support/bicep";
import { POISON_QUEUE, TARGET_QUEUE } from "../../shared/stores/targetQueue";
import { TABLES } from "../../shared/stores/tables";
import { infraFile, infraFiles, moduleParams } from "./infra";

/**
 * Built-in role definition ids, checked against Microsoft's "Azure built-in roles"
 * reference (learn.microsoft.com/azure/role-based-access-control/built-in-roles). They are
 * the same in every tenant. Each is what one code path needs (see the comment on each
 * assignment in infra/core/rbac.bicep).
 */
const BUILT_IN_ROLES: Record<string, string> = {
  "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
  "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
  Reader: "acdd72a7-3385-42ef-bd42-e3e1e4e1c8f5",
};
const ROLE_BY_ID = new Map(Object.entries(BUILT_IN_ROLES).map(([name, id]) => [id, name]));

/** The role GUID of roleDefinitionId: subscriptionResourceId('...roleDefinitions', <literal or var.member>). */
function roleGuid(file: BicepFile, value: Node | undefined): string | undefined {
  if (value?.type !== "call_expression" || calledName(value) !== "subscriptionResourceId") return undefined;
  const [type, id] = argumentsOf(value);
  if (stringLiteral(type) !== "Microsoft.Authorization/roleDefinitions") return undefined;
  if (id?.type === "member_expression") {
    const object = id.childForFieldName("object");
    const member = id.childForFieldName("property");
    const table = object ? variables(file).get(object.text) : undefined;
    return member ? stringLiteral(property(table, member.text)) : undefined;
  }
  return stringLiteral(id);
}

interface Assignment {
  at: string;
  role?: string;
  guid?: string;
  principal?: string;
  principalType?: string;
  scopeType?: string;
  /** The names the scope resource is declared with: its `name` literal, or its loop's array (a parameter default). */
  scopeNames: string[];
  conditional: boolean;
  loop: boolean;
  comment?: string;
}

/** `containers[i]` and `containers` both name the resource symbol `containers`. */
const symbolOf = (text: string | undefined) => text?.replace(/\[[^\]]*\]$/, "");

/**
 * The names a resource declaration covers: its `name` literal or parameter default, or for a
 * loop the array it iterates: a parameter's literal default, or a var concat() of those.
 * Anything computed gives no name, so an assertion on names cannot pass on a guess.
 */
function declaredNames(file: BicepFile, resource: ResourceDeclaration | undefined): string[] {
  if (!resource) return [];
  const literals = (node: Node | undefined): string[] => {
    if (!node) return [];
    if (node.type === "identifier") {
      const param = parameters(file).find((candidate) => candidate.name === node.text);
      if (param) return literals(param.defaultValue);
      return literals(variables(file).get(node.text));
    }
    if (node.type === "array") return children(node).flatMap(literals);
    if (node.type === "call_expression" && calledName(node) === "concat") return argumentsOf(node).flatMap(literals);
    const value = stringLiteral(node);
    return value === undefined ? [] : [value];
  };
  if (!resource.loop) return literals(property(resource.body, "name"));
  const loop = children(resource.node).find((child) => child.type === "for_statement");
  const parts = loop ? children(loop) : [];
  // for x in <iterable>: { ... } or for (x, i) in <iterable>: { ... }: the iterable is just before the body.
  return literals(parts[parts.length - 2]);
}

function assignmentsOf(file: BicepFile): Assignment[] {
  const declared = resources(file);
  const declaration = (symbol: string | undefined) => declared.find((resource) => resource.symbol === symbolOf(symbol));
  return declared
    .filter((resource) => resource.type === "Microsoft.Authorization/roleAssignments")
    .map((resource: ResourceDeclaration) => {
      const properties = property(resource.body, "properties");
      const guid = roleGuid(file, property(properties, "roleDefinitionId"));
      // The comment block right above the declaration (one node per line).
      const comment: string[] = [];
      for (let previous = resource.node.previousNamedSibling; previous?.type === "comment"; previous = previous.previousNamedSibling) comment.unshift(previous.text);
      return {
        at: `${file.name}:${resource.symbol}`,
        guid,
        role: guid ? ROLE_BY_ID.get(guid) : undefined,
        principal: property(properties, "principalId")?.text,
        principalType: property(properties, "principalType")?.text,
        scopeType: declaration(property(resource.body, "scope")?.text)?.type,
        scopeNames: declaredNames(file, declaration(property(resource.body, "scope")?.text)),
        conditional: resource.conditional,
        loop: resource.loop,
        comment: comment.length ? comment.join("\n") : undefined,
      };
    });
}

async function allAssignments(): Promise<Assignment[]> {
  return (await infraFiles()).flatMap(assignmentsOf);
}

describe("role assignments", () => {
  it("use only the built-in roles the code needs, each by its documented GUID", async () => {
    const assignments = await allAssignments();
    expect(assignments.length).toBeGreaterThanOrEqual(10);
    for (const assignment of assignments) {
      expect({ at: assignment.at, role: assignment.role }).toEqual({ at: assignment.at, role: expect.any(String) });
    }
    // Every GUID literal in a role table is one of them (no Owner, Contributor, Secrets User...), and each is used.
    const tables = (await infraFiles()).map((file) => variables(file).get("roles")).filter((table): table is Node => table !== undefined);
    const guids = tables.flatMap((table) => children(table).map((entry) => stringLiteral(children(entry)[1])));
    expect(new Set(guids)).toEqual(new Set(Object.values(BUILT_IN_ROLES)));
    expect(new Set(assignments.map((assignment) => assignment.guid))).toEqual(new Set(Object.values(BUILT_IN_ROLES)));
  });

  it("give the app's managed identity exactly those roles: the platform's storage roles on the account, the others on the resource each is for", async () => {
    const forApp = (await allAssignments()).filter((assignment) => assignment.principal === "appPrincipalId");
    const granted = forApp.map((assignment) => `${assignment.role} on ${assignment.scopeType}`).sort();
    expect(granted).toEqual(
      [
        "Storage Blob Data Owner on Microsoft.Storage/storageAccounts",
        "Storage Queue Data Contributor on Microsoft.Storage/storageAccounts",
        "Storage Table Data Contributor on Microsoft.Storage/storageAccounts/tableServices/tables",
        "Storage Table Data Contributor on Microsoft.Storage/storageAccounts/tableServices/tables",
        "Monitoring Metrics Publisher on Microsoft.Insights/components",
        "Key Vault Secrets Officer on Microsoft.KeyVault/vaults",
      ].sort(),
    );
    for (const assignment of forApp) {
      expect({ at: assignment.at, principalType: assignment.principalType, conditional: assignment.conditional }).toEqual({
        at: assignment.at,
        principalType: "'ServicePrincipal'",
        conditional: false,
      });
    }
  });

  it("let the app write only BillingProfileDesired (to suspend a departed customer), BillingProfileHistory, BillingProfileLeases, BillingProfileSweeps, BillingProfileDesiredChanges and BillingProfileStatus (the code's table names)", async () => {
    const forApp = (await allAssignments()).filter((assignment) => assignment.principal === "appPrincipalId");
    const contributors = forApp.filter((assignment) => assignment.role === "Storage Table Data Contributor");
    expect(contributors.flatMap((assignment) => assignment.scopeNames).sort()).toEqual([TABLES.desired, TABLES.history, TABLES.leases, TABLES.sweeps, TABLES.desiredChanges, TABLES.status].sort());
    // The desired table's grant says why the app writes it: the departed customer's suspension.
    const desired = contributors.find((assignment) => assignment.scopeNames.includes(TABLES.desired));
    expect(desired?.comment).toMatch(/departed customer|customer gone/);
    // No table right on the account: the table rights are for the app's data, table by table.
    expect(forApp.filter((assignment) => assignment.role?.startsWith("Storage Table") && assignment.scopeType === "Microsoft.Storage/storageAccounts")).toEqual([]);
  });

  it("give blob and queue rights on the app's own storage account, the one storage.bicep creates and the host and the deployment use", async () => {
    const forApp = (await allAssignments()).filter((assignment) => assignment.principal === "appPrincipalId");
    for (const role of ["Storage Blob Data Owner", "Storage Queue Data Contributor"]) {
      const assignment = forApp.find((candidate) => candidate.role === role);
      expect({ role, scope: assignment?.scopeType, loop: assignment?.loop }).toEqual({ role, scope: "Microsoft.Storage/storageAccounts", loop: false });
    }
    const main = await infraFile("main.bicep");
    expect(moduleParams(main, "rbac").get("storageAccountName")).toBe("storage.outputs.name");
    expect(moduleParams(main, "functionApp").get("storageAccountName")).toBe("storage.outputs.name");
    // The account holds nothing but this app's: a dedicated account, not one passed in.
    expect(moduleParams(main, "storage").get("name")).toBe("'st${resourceToken}'");
  });

  it("create the fan-out queue and its poison queue, the names the code uses", async () => {
    const storage = await infraFile("core/storage.bicep");
    const queues = parameters(storage).find((param) => param.name === "queueNames")?.defaultValue;
    expect(queues ? children(queues).map((item) => stringLiteral(item)) : []).toEqual([TARGET_QUEUE, POISON_QUEUE]);
  });

  it("give the deploying operator only table data and secrets, and only when a principal id is given", async () => {
    const forOperator = (await allAssignments()).filter((assignment) => assignment.principal === "operatorPrincipalId");
    expect(forOperator.map((assignment) => assignment.role).sort()).toEqual(["Key Vault Secrets Officer", "Storage Table Data Contributor"]);
    for (const assignment of forOperator) expect({ at: assignment.at, conditional: assignment.conditional }).toEqual({ at: assignment.at, conditional: true });
  });

  it("each carry a comment saying which code path needs the role", async () => {
    for (const assignment of await allAssignments()) {
      expect({ at: assignment.at, comment: assignment.comment }).toEqual({ at: assignment.at, comment: expect.stringMatching(/^\/\/ [^]{60,}/) });
    }
  });

  it("recognise a GUID that is not in the table (the check can fail)", async () => {
    const file = await parseBicep(
      "resource owner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {\n  name: 'x'\n  properties: {\n    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '8e3af657-a8ff-443c-a75c-2fe8c4bcb635')\n    principalId: appPrincipalId\n  }\n}\n",
      "owner.bicep",
    );
    const [assignment] = assignmentsOf(file);
    expect(assignment.guid).toBe("8e3af657-a8ff-443c-a75c-2fe8c4bcb635");
    expect(assignment.role).toBeUndefined();
    expect(assignment.comment).toBeUndefined();
  });

  it("name each assignment deterministically with guid() so a redeploy updates rather than duplicates", async () => {
    for (const resource of resourcesOfType(await infraFiles(), "Microsoft.Authorization/roleAssignments")) {
      const name = property(resource.body, "name");
      expect({ at: resource.symbol, name: name?.type === "call_expression" ? calledName(name) : literal(name) }).toEqual({ at: resource.symbol, name: "guid" });
    }
  });
});
