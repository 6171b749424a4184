import { entries, literal, property, propertyAt, resourcesOfType, stringLiteral, type BicepFile, type Node } from "../support/bicep";

/**
 * The Function App's app settings as declared in Bicep: the properties of
 * Microsoft.Web/sites/config 'appsettings', plus any siteConfig.appSettings name/value
 * pairs on the site itself.
 */
export function appSettingsOf(files: BicepFile[]): Map<string, Node> {
  const settings = new Map<string, Node>();
  for (const config of resourcesOfType(files, "Microsoft.Web/sites/config")) {
    if (stringLiteral(property(config.body, "name")) !== "appsettings") continue;
    for (const entry of entries(propertyAt(config.body, "properties") as Node)) settings.set(entry.key, entry.value);
  }
  for (const site of resourcesOfType(files, "Microsoft.Web/sites")) {
    const list = propertyAt(site.body, "properties", "siteConfig", "appSettings");
    for (const item of list?.namedChildren ?? []) {
      const name = stringLiteral(property(item ?? undefined, "name"));
      const value = property(item ?? undefined, "value");
      if (name && value) settings.set(name, value);
    }
  }
  return settings;
}

/** Names of production settings with no app setting, or one set to an empty literal. */
export function missingProductionSettings(specs: readonly { name: string; production: boolean }[], settings: Map<string, Node>): string[] {
  return specs
    .filter((spec) => spec.production)
    .filter((spec) => {
      const value = settings.get(spec.name);
      return value === undefined || literal(value) === "" || literal(value) === null;
    })
    .map((spec) => spec.name);
}
