import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import ignore from "ignore";

/**
 * The deployment package as azd builds it, for the tests and the size figure. azd cannot
 * run here (no Azure), so its two rules are restated from its source
 * (github.com/Azure/azure-dev, cli/azd/pkg/project):
 * - service_target_functionapp.go resolveFunctionAppRemoteBuild: for a JavaScript or
 *   TypeScript Flex Consumption app, read `.funcignore` in the service's project folder with
 *   gitignore semantics and ask whether the directory node_modules is ignored; an explicit
 *   `remoteBuild: false` with node_modules ignored is refused, and so is `remoteBuild: true`
 *   without it;
 * - project_utils.go createDeployableZip: zip the package folder (the project, or its `dist`
 *   subfolder) except `.azure/`, the ignore file itself, local.settings.json and what the
 *   package folder's own `.funcignore` ignores; without that file, node_modules is left out
 *   unless remoteBuild is false.
 * gitignore matching is the `ignore` package's (azd uses go-gitignore); a UTF-8 BOM is
 * stripped first, as azd does.
 */

export interface AzdService {
  name: string;
  /** `project`, relative to azure.yaml. */
  project: string;
  /** `dist`: the package folder relative to the project, if the build output is not the project itself. */
  dist?: string;
  language: string;
  host: string;
  remoteBuild?: boolean;
}

export type YamlValue = string | boolean | number | YamlMap;
export interface YamlMap {
  [key: string]: YamlValue;
}

function scalar(text: string): string | boolean | number {
  if (/^(['"]).*\1$/.test(text)) return text.slice(1, -1);
  if (text === "true" || text === "false") return text === "true";
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

/**
 * The subset of YAML azure.yaml uses here: nested maps of plain or quoted scalars. Anything
 * else (lists, flow style, anchors, multi-line strings) is an error, not a guess.
 */
export function parseYamlMap(text: string, name = "azure.yaml"): YamlMap {
  const root: YamlMap = {};
  const stack: { indent: number; map: YamlMap }[] = [{ indent: -1, map: root }];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/(^|\s)#.*$/, "").replace(/\s+$/, "");
    if (!line.trim()) return;
    const indent = line.length - line.trimStart().length;
    const match = /^([A-Za-z0-9_.$-]+):(?:\s+(.*))?$/.exec(line.trim());
    if (!match || /^[[{&*|>-]/.test(match[2] ?? "")) throw new Error(`${name} line ${index + 1}: not in the YAML subset this reader understands: ${raw.trim()}`);
    while (stack.length > 1 && indent <= stack[stack.length - 1].indent) stack.pop();
    const parent = stack[stack.length - 1].map;
    const [, key, value] = match;
    if (value === undefined || value === "") {
      const child: YamlMap = {};
      parent[key] = child;
      stack.push({ indent, map: child });
    } else {
      parent[key] = scalar(value);
    }
  });
  return root;
}

export function readAzureYaml(root: string): YamlMap {
  return parseYamlMap(readFileSync(join(root, "azure.yaml"), "utf8"));
}

/** The services azure.yaml deploys to a Function App. */
export function functionServices(azureYaml: YamlMap): AzdService[] {
  const services = (azureYaml.services ?? {}) as YamlMap;
  return Object.entries(services)
    .map(([name, value]) => ({ name, config: value as YamlMap }))
    .filter(({ config }) => config.host === "function")
    .map(({ name, config }) => ({
      name,
      project: String(config.project ?? "."),
      dist: config.dist === undefined ? undefined : String(config.dist),
      language: String(config.language ?? ""),
      host: String(config.host),
      remoteBuild: typeof config.remoteBuild === "boolean" ? config.remoteBuild : undefined,
    }));
}

const IGNORE_FILE = ".funcignore";

function readIgnoreFile(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, IGNORE_FILE), "utf8").replace(/^\uFEFF/, "");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

const isNodeLanguage = (language: string) => ["js", "ts", "javascript", "typescript"].includes(language.toLowerCase());

/**
 * resolveFunctionAppRemoteBuild for a Flex Consumption app: whether azd asks the platform
 * to build remotely, or the error azd stops the deployment with.
 */
export function resolveRemoteBuild(service: AzdService, ignoreFileText: string | undefined): { remoteBuild: boolean } | { error: string } {
  if (!isNodeLanguage(service.language)) return { remoteBuild: service.remoteBuild ?? service.language === "python" };
  if (ignoreFileText === undefined) return { remoteBuild: service.remoteBuild ?? true };
  const nodeModulesExcluded = ignore().add(ignoreFileText).ignores("node_modules/");
  if (service.remoteBuild === undefined) return { remoteBuild: nodeModulesExcluded };
  if (service.remoteBuild && !nodeModulesExcluded) return { error: `'remoteBuild: true' requires '${IGNORE_FILE}' to exclude node_modules` };
  if (!service.remoteBuild && nodeModulesExcluded) return { error: `'remoteBuild: false' cannot be used when '${IGNORE_FILE}' excludes node_modules` };
  return { remoteBuild: service.remoteBuild };
}

/** The rule applied to a service of a checked-out project: its project folder's .funcignore. */
export function remoteBuildOf(root: string, service: AzdService): { remoteBuild: boolean } | { error: string } {
  return resolveRemoteBuild(service, readIgnoreFile(join(root, service.project)));
}

/** The folder azd zips: the project, or its `dist` subfolder. */
export function packageDir(root: string, service: AzdService): string {
  return join(root, service.project, service.dist ?? "");
}

/** createDeployableZip: the files (relative, /-separated) azd puts in the zip of `dir`. */
export function azdZipFiles(dir: string, service: AzdService): string[] {
  const ignoreText = readIgnoreFile(dir);
  const rules = ignoreText === undefined ? undefined : ignore().add(ignoreText);
  const files: string[] = [];
  const walk = (current: string): void => {
    for (const name of readdirSync(current).sort()) {
      const full = join(current, name);
      const isDir = statSync(full).isDirectory();
      const rel = relative(dir, full).split(sep).join("/");
      if (isDir && name === ".azure") continue;
      if (!isDir && (name === IGNORE_FILE || name === "local.settings.json")) continue;
      if (rules) {
        if (rules.ignores(isDir ? `${rel}/` : rel)) continue;
      } else if (isDir && name === "node_modules" && isNodeLanguage(service.language) && service.remoteBuild !== false) {
        continue;
      }
      if (isDir) walk(full);
      else files.push(rel);
    }
  };
  walk(dir);
  return files;
}

/** The one Function App service of this project's azure.yaml. */
export function theFunctionService(root: string): AzdService {
  const services = functionServices(readAzureYaml(root));
  if (services.length !== 1) throw new Error(`azure.yaml: expected one service with host: function, found ${services.length}`);
  return services[0];
}
