import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { contextLogger, getEngine } from "../shared/host";
import { errorResponse, parseSyncRequest, runSyncRequest } from "../shared/httpApi";

/** POST /api/sync {target?, dryRun?}: a manual sync, same engine as the timer. */
export async function syncHttp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const log = contextLogger(context);
  const parsed = await parseSyncRequest(request);
  if (!parsed.ok) return parsed.response;
  try {
    return await runSyncRequest(getEngine(), parsed.value, log);
  } catch (err) {
    return errorResponse(err, log);
  }
}

app.http("sync", { methods: ["POST"], authLevel: "function", route: "sync", handler: syncHttp });
