import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { handlers } from "./lazyHandlers";

/** GET /api/status[?pageSize=&continuationToken=&summary=true|target=]: per target, the latest run, pauses, fights and poison. */
export async function statusHttp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return handlers().handleStatus(request, context);
}

app.http("status", { methods: ["GET"], authLevel: "function", route: "status", handler: statusHttp });
