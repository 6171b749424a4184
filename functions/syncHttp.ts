import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { handlers } from "./lazyHandlers";

/** POST /api/sync {target?, dryRun?}: a manual sync, same engine as the timer. */
export async function syncHttp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return handlers().handleSync(request, context);
}

app.http("sync", { methods: ["POST"], authLevel: "function", route: "sync", handler: syncHttp });
