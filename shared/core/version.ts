import { name, version } from "../../package.json";

/**
 * This build's name and version, from package.json (inlined by the bundler): what
 * `billing-sync --version` prints, the telemetry's application version (application_Version
 * in Application Insights) and the User-Agent of Partner Center calls, so that a run, a
 * trace and a support ticket can each say which build made them.
 */
export const PRODUCT_NAME: string = name;
export const PRODUCT_VERSION: string = version;
export const USER_AGENT = `${name}/${version}`;
