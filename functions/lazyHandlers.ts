import type * as Handlers from "../shared/host";

/**
 * The engine (Table, HTTP and Partner Center clients) loads on the first invocation, not
 * when the worker indexes the functions: the entry stays small and the cold start short.
 * In the deployed bundle this require becomes require("./engine.js").
 */
export function handlers(): typeof Handlers {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("../shared/host");
}
