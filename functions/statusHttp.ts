import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { handlers } from "./lazyHandlers";

/** GET /api/status: per target, the latest run, pauses, fights and poison. */
export async function statusHttp(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return handlers().handleStatus(context);
}

app.http("status", { methods: ["GET"], authLevel: "function", route: "status", handler: statusHttp });
