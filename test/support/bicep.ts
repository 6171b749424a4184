import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { Language, Parser, type Node, type Tree } from "web-tree-sitter";

/**
 * Bicep read through a real grammar: tree-sitter-bicep's WebAssembly build, run by
 * web-tree-sitter (no native build, no Bicep compiler: neither can be installed offline).
 * The helpers below walk the parse tree; they evaluate plain literals only and say
 * "unknown" (undefined) for anything computed, so an assertion never passes on a guess.
 */

export type { Node } from "web-tree-sitter";

export interface BicepFile {
  /** Path relative to the folder it was loaded from (for messages). */
  name: string;
  text: string;
  tree: Tree;
  root: Node;
}

let parserPromise: Promise<Parser> | undefined;

async function createParser(): Promise<Parser> {
  await Parser.init();
  // Bytes, not a path: given a path, Language.load does a dynamic import() that jest's VM
  // refuses. The copy makes the array belong to this realm (Language.load checks instanceof).
  const wasm = new Uint8Array(readFileSync(require.resolve("tree-sitter-bicep/tree-sitter-bicep.wasm")));
  const language = await Language.load(wasm);
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

/** One parser per process: loading the grammar costs more than parsing every file. */
export function bicepParser(): Promise<Parser> {
  parserPromise ??= createParser();
  return parserPromise;
}

export async function parseBicep(text: string, name = "inline.bicep"): Promise<BicepFile> {
  const tree = (await bicepParser()).parse(text);
  if (!tree) throw new Error(`tree-sitter returned no tree for ${name}`);
  return { name, text, tree, root: tree.rootNode };
}

export function listBicepFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".bicep"))
    .map((file) => join(dir, file))
    .sort();
}

export async function loadBicepFiles(dir: string): Promise<BicepFile[]> {
  const files: BicepFile[] = [];
  for (const path of listBicepFiles(dir)) files.push(await parseBicep(readFileSync(path, "utf8"), relative(dir, path).split(sep).join("/")));
  return files;
}

function present(nodes: (Node | null)[]): Node[] {
  return nodes.filter((node): node is Node => node !== null);
}

/** Named children without comments (comments are "extras" and may sit anywhere). */
export function children(node: Node): Node[] {
  return present(node.namedChildren).filter((child) => child.type !== "comment" && child.type !== "diagnostic_comment");
}

export function descendants(node: Node, type: string): Node[] {
  return present(node.descendantsOfType(type));
}

export function where(node: Node): string {
  return `line ${node.startPosition.row + 1}, column ${node.startPosition.column + 1}`;
}

/** ERROR and MISSING nodes: what a syntax error leaves in the tree, with their positions. */
export function syntaxProblems(file: BicepFile): string[] {
  const problems: string[] = [];
  const visit = (node: Node): void => {
    if (node.isError || node.isMissing) {
      problems.push(`${file.name}: ${node.isMissing ? `missing ${node.type}` : "syntax error"} at ${where(node)}: ${JSON.stringify(node.text.slice(0, 60))}`);
    }
    for (const child of present(node.children)) visit(child);
  };
  visit(file.root);
  return problems;
}

// ---------------------------------------------------------------------------------------
// Literals

/**
 * The value of a string literal, or undefined when it is not one or is interpolated
 * ('${...}'). Single-quoted strings unescape \' \\ \n \r \t \$ \u{...}; multi-line '''
 * strings take their text as is, as Bicep does.
 */
export function stringLiteral(node: Node | undefined): string | undefined {
  if (!node || node.type !== "string") return undefined;
  if (children(node).some((child) => child.type === "interpolation")) return undefined;
  const text = node.text;
  if (text.startsWith("'''")) return text.slice(3, -3).replace(/^\r?\n/, "");
  return unescape(text.slice(1, -1));
}

/** Bicep's escapes in a single-quoted string: \' \\ \n \r \t \$ \u{...}. */
function unescape(text: string): string {
  return text.replace(/\\(u\{[0-9a-fA-F]+\}|.)/g, (_match, escape: string) => {
    if (escape.startsWith("u{")) return String.fromCodePoint(parseInt(escape.slice(2, -1), 16));
    return ({ n: "\n", r: "\r", t: "\t" } as Record<string, string>)[escape] ?? escape;
  });
}

/**
 * The text of a string with its interpolations kept as written: 'Authorization=AAD;ClientId=${id}'
 * gives Authorization=AAD;ClientId=${id}. For checking the shape of computed strings.
 */
export function stringTemplate(node: Node | undefined): string | undefined {
  if (!node || node.type !== "string") return undefined;
  const text = node.text;
  return text.startsWith("'''") ? text.slice(3, -3) : text.slice(1, -1);
}

/**
 * The value of a string whose interpolations can all be evaluated here: literals, and
 * identifiers naming a parameter with a literal default or a `var` with a literal value
 * (followed through further interpolated strings). An identifier resolves too, to its var's
 * value. Throws, naming the expression and where it is, for anything computed at deployment
 * (a resource property, a function call): a check of the text must not pass on a guess.
 */
export function interpolatedString(file: BicepFile, node: Node | undefined, seen: Set<string> = new Set()): string {
  if (!node) throw new Error(`${file.name}: no string to evaluate`);
  const evaluate = (expression: Node): string => {
    if (expression.type === "number" || expression.type === "boolean") return expression.text;
    if (expression.type === "string") return interpolatedString(file, expression, seen);
    if (expression.type === "identifier") {
      if (seen.has(expression.text)) throw new Error(`${file.name}: ${expression.text} refers to itself`);
      const param = parameters(file).find((candidate) => candidate.name === expression.text);
      const value = param ? param.defaultValue : variables(file).get(expression.text);
      if (value?.type === "string" || value?.type === "identifier") return interpolatedString(file, value, new Set(seen).add(expression.text));
      if (value) return evaluate(value);
    }
    throw new Error(`${file.name}: cannot evaluate \${${expression.text}} at ${where(expression)} here (not a literal, nor a parameter default or var with one)`);
  };
  if (node.type === "identifier") return evaluate(node);
  if (node.type !== "string") throw new Error(`${file.name}: ${node.text.slice(0, 40)} at ${where(node)} is not a string`);
  if (node.text.startsWith("'''")) return node.text.slice(3, -3).replace(/^\r?\n/, "");
  let text = "";
  for (const part of children(node)) {
    if (part.type === "interpolation") {
      const [expression] = children(part);
      text += evaluate(expression);
    } else if (part.type === "escape_sequence") {
      text += unescape(part.text);
    } else {
      text += part.text;
    }
  }
  return text;
}

export type Literal = string | number | boolean | null;

/** A plain literal (string, number, bool, null), or undefined for anything computed. */
export function literal(node: Node | undefined): Literal | undefined {
  if (!node) return undefined;
  switch (node.type) {
    case "string":
      return stringLiteral(node);
    case "number":
      return Number(node.text);
    case "boolean":
      return node.text === "true";
    case "null":
      return null;
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Objects

export interface Entry {
  key: string;
  keyNode: Node;
  value: Node;
}

/** The key: value pairs of an object literal (child resources declared inside it are skipped). */
export function entries(object: Node): Entry[] {
  if (object.type !== "object") return [];
  const result: Entry[] = [];
  for (const property of children(object).filter((child) => child.type === "object_property")) {
    const parts = children(property);
    if (parts.length !== 2) continue;
    const [keyNode, value] = parts;
    const key = keyNode.type === "identifier" ? keyNode.text : stringLiteral(keyNode);
    if (key !== undefined) result.push({ key, keyNode, value });
  }
  return result;
}

/** A property of an object literal by key; Bicep property names are case-insensitive. */
export function property(object: Node | undefined, key: string): Node | undefined {
  if (!object) return undefined;
  return entries(object).find((entry) => entry.key.toLowerCase() === key.toLowerCase())?.value;
}

/** A nested property: propertyAt(body, "properties", "siteConfig", "minTlsVersion"). */
export function propertyAt(object: Node | undefined, ...path: string[]): Node | undefined {
  let node = object;
  for (const key of path) node = property(node, key);
  return node;
}

export function keys(object: Node | undefined): string[] {
  return object ? entries(object).map((entry) => entry.key) : [];
}

// ---------------------------------------------------------------------------------------
// Declarations

export interface ResourceDeclaration {
  file: string;
  symbol: string;
  /** The type as written, e.g. Microsoft.Web/sites or, for a nested child, config. */
  type: string;
  apiVersion?: string;
  existing: boolean;
  conditional: boolean;
  loop: boolean;
  /** The object literal after `=`, `= if (...)` or `= [for ...: ...]`. */
  body: Node;
  node: Node;
}

function declarationBody(node: Node): { body?: Node; conditional: boolean; loop: boolean } {
  let conditional = false;
  let loop = false;
  let candidate = children(node).at(-1);
  if (candidate?.type === "if_statement") {
    conditional = true;
    candidate = children(candidate).at(-1);
  }
  if (candidate?.type === "for_statement") {
    loop = true;
    candidate = candidate.childForFieldName("body") ?? undefined;
    if (candidate?.type === "if_statement") {
      conditional = true;
      candidate = children(candidate).at(-1);
    }
  }
  return { body: candidate?.type === "object" ? candidate : undefined, conditional, loop };
}

/** Every resource declaration, child resources declared inside a parent included. */
export function resources(file: BicepFile): ResourceDeclaration[] {
  return descendants(file.root, "resource_declaration").map((node) => {
    const [symbolNode, typeNode] = children(node);
    const typeText = stringLiteral(typeNode) ?? "";
    const [type, apiVersion] = typeText.split("@");
    const { body, conditional, loop } = declarationBody(node);
    if (!body) throw new Error(`${file.name}: resource ${symbolNode.text} at ${where(node)} has no object body the helpers understand`);
    const existing = present(node.children).some((child) => child.type === "existing" || (!child.isNamed && child.text === "existing"));
    return { file: file.name, symbol: symbolNode.text, type, apiVersion, existing, conditional, loop, body, node };
  });
}

/** Resources of a fully qualified type (case-insensitive), e.g. Microsoft.Storage/storageAccounts. */
export function resourcesOfType(files: BicepFile[], type: string): ResourceDeclaration[] {
  return files.flatMap(resources).filter((resource) => resource.type.toLowerCase() === type.toLowerCase());
}

export interface OutputDeclaration {
  file: string;
  name: string;
  value: Node;
  node: Node;
}

export function outputs(file: BicepFile): OutputDeclaration[] {
  return descendants(file.root, "output_declaration").map((node) => {
    const parts = children(node);
    return { file: file.name, name: parts[0].text, value: parts[parts.length - 1], node };
  });
}

export interface ParameterDeclaration {
  file: string;
  name: string;
  /** The default value expression, if any. */
  defaultValue?: Node;
  /** Decorator calls by lower-case name: allowed, secure, description, minLength... */
  decorators: Map<string, Node>;
  node: Node;
}

/** Decorators written just before a declaration (they parse as its preceding sibling). */
function decoratorsOf(node: Node): Map<string, Node> {
  const result = new Map<string, Node>();
  let previous = node.previousNamedSibling;
  while (previous && previous.type === "comment") previous = previous.previousNamedSibling;
  if (previous?.type !== "decorators") return result;
  for (const decorator of children(previous)) {
    const call = children(decorator)[0];
    if (call?.type === "call_expression") result.set(calledName(call).toLowerCase(), call);
  }
  return result;
}

/** The arguments of a call, in order. */
export function argumentsOf(call: Node): Node[] {
  const args = call.childForFieldName("arguments");
  return args ? children(args) : [];
}

export function parameters(file: BicepFile): ParameterDeclaration[] {
  return children(file.root)
    .filter((child) => child.type === "parameter_declaration")
    .map((node) => {
      const parts = children(node);
      const defaultValue = parts.length >= 3 ? parts[parts.length - 1] : undefined;
      return { file: file.name, name: parts[0].text, defaultValue, decorators: decoratorsOf(node), node };
    });
}

/** The value expression of each top-level `var`. */
export function variables(file: BicepFile): Map<string, Node> {
  const result = new Map<string, Node>();
  for (const node of children(file.root).filter((child) => child.type === "variable_declaration")) {
    const parts = children(node);
    result.set(parts[0].text, parts[parts.length - 1]);
  }
  return result;
}

/** A string literal, or an identifier naming a `var` whose value is one. */
export function resolveString(file: BicepFile, node: Node | undefined): string | undefined {
  if (node?.type === "identifier") return stringLiteral(variables(file).get(node.text));
  return stringLiteral(node);
}

/** The called function's name: `listKeys(...)` and `account.listKeys()` both give listKeys. */
export function calledName(call: Node): string {
  const fn = call.childForFieldName("function");
  if (!fn) return "";
  return fn.type === "member_expression" ? (fn.childForFieldName("property")?.text ?? "") : fn.text;
}

/** Every function call in the file, with the called name (Bicep names are case-insensitive). */
export function calls(file: BicepFile): { name: string; node: Node }[] {
  return descendants(file.root, "call_expression").map((node) => ({ name: calledName(node), node }));
}

/** Every member access `x.y.z` as its property names, e.g. ["properties", "ConnectionString"]. */
export function memberPath(node: Node): string[] {
  const path: string[] = [];
  let current: Node | null = node;
  while (current && current.type === "member_expression") {
    const name = current.childForFieldName("property");
    if (name) path.unshift(name.text);
    current = current.childForFieldName("object");
  }
  return path;
}
