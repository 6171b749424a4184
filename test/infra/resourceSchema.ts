import { readFileSync } from "node:fs";
import { join } from "node:path";
import { children, entries, literal, resources, stringLiteral, where, type BicepFile, type Node, type ResourceDeclaration } from "../support/bicep";

/**
 * What the Bicep compiler checks a resource declaration against, checked here on the parse
 * tree: the type data of Azure/bicep-types-az (test/fixtures/azure-types/types.json, cut to
 * the types infra/ uses by extract.mjs next to it; format: bicep-types' types.json, where
 * {"$ref": "#/N"} points at entry N). Checked: the type and apiVersion exist; every property
 * written, at any depth, is one the type has (exact case), none is read-only, every
 * required one of an object written out is there; a literal string, number or bool is of
 * the property's type, and one of its values where the type lists them. Anything computed
 * (a parameter, a function call) is not evaluated: its property name is still checked.
 */

export interface TypeRef {
  $ref: string;
}

interface Property {
  type: TypeRef;
  flags: number;
  description?: string;
}

/** The entries of a types.json the check reads; others (functions, ...) are treated as any. */
export type SchemaType =
  | { $type: "ResourceType"; name: string; body: TypeRef }
  | { $type: "ObjectType"; name: string; properties: Record<string, Property>; additionalProperties?: TypeRef }
  | { $type: "DiscriminatedObjectType"; name: string; discriminator: string; baseProperties: Record<string, Property>; elements: Record<string, TypeRef> }
  | { $type: "UnionType"; elements: TypeRef[] }
  | { $type: "ArrayType"; itemType: TypeRef }
  | { $type: "StringLiteralType"; value: string }
  | { $type: "StringType" | "IntegerType" | "BooleanType" | "AnyType" | "NullType" };

export interface TypeData {
  source: Record<string, string>;
  /** Every apiVersion the type data knows of each type infra/ uses. */
  apiVersions: Record<string, string[]>;
  /** "<type>@<apiVersion>" → index of its ResourceType in `types`. */
  resources: Record<string, number>;
  types: SchemaType[];
}

const FLAG_REQUIRED = 1;
const FLAG_READ_ONLY = 2;

/** Keys of a resource body that are Bicep's, not the resource type's. */
const LANGUAGE_KEYS = new Set(["parent", "scope", "dependsOn"]);
/** All that an `existing` declaration may say. */
const EXISTING_KEYS = new Set(["name", "parent", "scope"]);

export const TYPE_DATA_FILE = join(__dirname, "..", "fixtures", "azure-types", "types.json");

export function loadTypeData(path = TYPE_DATA_FILE): TypeData {
  return JSON.parse(readFileSync(path, "utf8")) as TypeData;
}

/** A GA apiVersion is a plain date; previews and the like carry a suffix. */
export const isGa = (apiVersion: string) => /^\d{4}-\d{2}-\d{2}$/.test(apiVersion);

export function newestGa(data: TypeData, type: string): string | undefined {
  const versions = Object.entries(data.apiVersions).find(([name]) => name.toLowerCase() === type.toLowerCase())?.[1] ?? [];
  return versions.filter(isGa).sort().at(-1);
}

export interface ResolvedDeclaration {
  declaration: ResourceDeclaration;
  /** The fully qualified type: a nested child's short name is put after its parent's type. */
  type: string;
  apiVersion: string;
  at: string;
}

/** A declaration's full type and apiVersion; a child declared inside its parent takes the parent's apiVersion. */
export function resolveDeclaration(file: BicepFile, declaration: ResourceDeclaration): ResolvedDeclaration {
  let type = declaration.type;
  let apiVersion = declaration.apiVersion;
  if (!type.includes("/")) {
    let parent = declaration.node.parent;
    while (parent && parent.type !== "resource_declaration") parent = parent.parent;
    const parentDeclaration = parent ? resources(file).find((candidate) => candidate.node.id === parent.id) : undefined;
    if (parentDeclaration) {
      const resolved = resolveDeclaration(file, parentDeclaration);
      type = `${resolved.type}/${type}`;
      apiVersion ??= resolved.apiVersion;
    }
  }
  return { declaration, type, apiVersion: apiVersion ?? "", at: `${file.name}:${declaration.symbol} (${where(declaration.node)})` };
}

class Checker {
  readonly problems: string[] = [];
  private readonly byKey: Map<string, number>;

  constructor(private readonly data: TypeData) {
    this.byKey = new Map(Object.entries(data.resources).map(([key, index]) => [key.toLowerCase(), index]));
  }

  private resolve(ref: TypeRef): SchemaType {
    const type = this.data.types[Number(ref.$ref.replace(/^#\//, ""))];
    if (!type) throw new Error(`type data: no entry ${ref.$ref}`);
    return type;
  }

  private report(at: string, node: Node, message: string): void {
    this.problems.push(`${at}: ${message} (${where(node)})`);
  }

  declaration(file: BicepFile, declaration: ResourceDeclaration): void {
    const resolved = resolveDeclaration(file, declaration);
    const { type, apiVersion } = resolved;
    const at = `${file.name}:${declaration.symbol}`;
    const index = this.byKey.get(`${type}@${apiVersion}`.toLowerCase());
    if (index === undefined) {
      const known = Object.entries(this.data.apiVersions).find(([name]) => name.toLowerCase() === type.toLowerCase())?.[1];
      if (!known) this.report(at, declaration.node, `resource type ${type} is not in the type data (misspelled, or a type the fixture does not hold yet: test/fixtures/azure-types/extract.mjs)`);
      else if (known.includes(apiVersion)) this.report(at, declaration.node, `${type}@${apiVersion} exists but the fixture holds only the apiVersions infra/ uses: use ${newestGa(this.data, type)} (its newest GA), or rebuild the fixture (test/fixtures/azure-types/extract.mjs)`);
      else this.report(at, declaration.node, `unknown apiVersion ${apiVersion} of ${type}; known GA versions end with ${known.filter(isGa).slice(-3).join(", ")}`);
      return;
    }
    const resource = this.data.types[index];
    if (resource.$type !== "ResourceType") throw new Error(`type data: ${type}@${apiVersion} is not a ResourceType`);
    if (declaration.existing) {
      for (const entry of entries(declaration.body)) {
        if (!EXISTING_KEYS.has(entry.key)) this.report(at, entry.keyNode, `an existing resource takes only name, parent and scope, not ${entry.key}`);
      }
    }
    // An existing declaration reads the resource: nothing it does not write is required.
    this.object(declaration.body, resource.body, at, { resourceBody: true, requireAll: !declaration.existing });
  }

  /** The properties an object type allows, the discriminated element chosen by the literal the object gives. */
  private propertiesOf(object: Node, type: SchemaType, at: string): { properties: Record<string, Property>; additional?: TypeRef; open: boolean } | undefined {
    if (type.$type === "ObjectType") return { properties: type.properties ?? {}, additional: type.additionalProperties, open: false };
    if (type.$type !== "DiscriminatedObjectType") return undefined;
    const given = entries(object).find((entry) => entry.key === type.discriminator);
    const value = given ? literal(given.value) : undefined;
    if (typeof value === "string") {
      const element = type.elements[value] ?? Object.entries(type.elements).find(([name]) => name.toLowerCase() === value.toLowerCase())?.[1];
      if (!element) {
        this.report(at, given!.value, `${type.discriminator} '${value}' is not one of ${Object.keys(type.elements).join(", ")}`);
        return undefined;
      }
      const chosen = this.resolve(element);
      const own = chosen.$type === "ObjectType" ? chosen.properties : {};
      return { properties: { ...type.baseProperties, ...own }, open: false };
    }
    // The discriminator is computed: a property any variant has is accepted.
    const merged: Record<string, Property> = { ...type.baseProperties };
    for (const element of Object.values(type.elements)) {
      const chosen = this.resolve(element);
      if (chosen.$type === "ObjectType") for (const [name, property] of Object.entries(chosen.properties)) merged[name] ??= property;
    }
    return { properties: merged, open: true };
  }

  private object(object: Node, ref: TypeRef, at: string, { resourceBody = false, requireAll = true } = {}): void {
    const type = this.resolve(ref);
    const shape = this.propertiesOf(object, type, at);
    if (!shape) {
      if (type.$type !== "DiscriminatedObjectType" && type.$type !== "AnyType") this.report(at, object, `an object where ${describe(type)} is expected`);
      return;
    }
    const written = entries(object);
    for (const entry of written) {
      if (resourceBody && LANGUAGE_KEYS.has(entry.key)) continue;
      const path = `${at}.${entry.key}`;
      const property = shape.properties[entry.key];
      if (!property) {
        const other = Object.keys(shape.properties).find((name) => name.toLowerCase() === entry.key.toLowerCase());
        if (other) {
          this.report(path, entry.keyNode, `property ${entry.key} is spelled ${other} in the type`);
          continue;
        }
        if (shape.additional) {
          this.value(entry.value, shape.additional, path);
          continue;
        }
        this.report(path, entry.keyNode, `unknown property ${entry.key}; the type has ${Object.keys(shape.properties).sort().join(", ")}`);
        continue;
      }
      if (property.flags & FLAG_READ_ONLY) {
        this.report(path, entry.keyNode, `property ${entry.key} is read-only`);
        continue;
      }
      this.value(entry.value, property.type, path);
    }
    if (!shape.open && requireAll) {
      for (const [name, property] of Object.entries(shape.properties)) {
        const required = property.flags & FLAG_REQUIRED && !(property.flags & FLAG_READ_ONLY);
        if (required && !written.some((entry) => entry.key === name)) this.report(at, object, `required property ${name} is missing`);
      }
    }
  }

  private value(node: Node, ref: TypeRef, at: string): void {
    if (node.type === "parenthesized_expression") {
      const [inner] = children(node);
      if (inner) this.value(inner, ref, at);
      return;
    }
    if (node.type === "ternary_expression") {
      for (const field of ["consequence", "alternative"]) {
        const branch = node.childForFieldName(field);
        if (branch) this.value(branch, ref, at);
      }
      return;
    }
    const type = this.resolve(ref);
    if (type.$type === "AnyType") return;
    if (type.$type === "UnionType") {
      this.union(node, type.elements, at);
      return;
    }
    switch (node.type) {
      case "object":
        this.object(node, ref, at);
        return;
      case "array":
        if (type.$type !== "ArrayType") this.report(at, node, `an array where ${describe(type)} is expected`);
        else for (const item of children(node)) this.value(item, type.itemType, `${at}[]`);
        return;
      case "string": {
        const text = stringLiteral(node);
        if (type.$type === "StringLiteralType") {
          if (text !== undefined && text !== type.value) this.report(at, node, `'${text}' where '${type.value}' is expected`);
        } else if (type.$type !== "StringType") {
          this.report(at, node, `a string where ${describe(type)} is expected`);
        }
        return;
      }
      case "number":
        if (type.$type !== "IntegerType") this.report(at, node, `a number where ${describe(type)} is expected`);
        return;
      case "boolean":
        if (type.$type !== "BooleanType") this.report(at, node, `a bool where ${describe(type)} is expected`);
        return;
      default:
        // An expression evaluated at deployment: its value is not known here.
        return;
    }
  }

  /** A value fits a union when it fits one of its members; literals are matched by value. */
  private union(node: Node, elements: TypeRef[], at: string): void {
    const members = elements.map((element) => this.resolve(element));
    if (node.type === "string") {
      const text = stringLiteral(node);
      const values = members.flatMap((member) => (member.$type === "StringLiteralType" ? [member.value] : []));
      const open = members.some((member) => member.$type === "StringType" || member.$type === "AnyType");
      if (values.length === 0 && !open) this.report(at, node, `a string where ${members.map(describe).join(" | ")} is expected`);
      if (text === undefined || values.length === 0 || values.includes(text)) return;
      // A closed list is the compiler's error. An open one (the API takes values added later)
      // the compiler lets through; here a literal must still be a listed value, in any case,
      // so that a typo of a known value ('Disbled') fails too.
      if (!open) this.report(at, node, `'${text}' is not one of ${values.map((value) => `'${value}'`).join(", ")}`);
      else if (!values.some((value) => value.toLowerCase() === text.toLowerCase())) this.report(at, node, `'${text}' is none of the known values ${values.map((value) => `'${value}'`).join(", ")}`);
      return;
    }
    // Objects, arrays and others: the first member that reports nothing wins; otherwise the first's problems.
    let first: string[] | undefined;
    for (const element of elements) {
      const trial = new Checker(this.data);
      trial.value(node, element, at);
      if (trial.problems.length === 0) return;
      first ??= trial.problems;
    }
    this.problems.push(...(first ?? []));
  }
}

function describe(type: SchemaType): string {
  switch (type.$type) {
    case "ObjectType":
    case "DiscriminatedObjectType":
      return `object ${type.name}`;
    case "StringLiteralType":
      return `'${type.value}'`;
    case "ArrayType":
      return "an array";
    default:
      return type.$type.replace(/Type$/, "").toLowerCase();
  }
}

/** Every problem of every resource declaration of the files, as "<file>:<symbol>.<path>: <what> (line, column)". */
export function checkResources(files: BicepFile[], data: TypeData): string[] {
  const checker = new Checker(data);
  for (const file of files) for (const declaration of resources(file)) checker.declaration(file, declaration);
  return checker.problems;
}
