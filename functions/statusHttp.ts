import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { contextLogger, getEngine } from "../shared/host";
import { errorResponse, statusResponse } from "../shared/httpApi";

/** GET /api/status: the latest history record of each target. */
export async function statusHttp(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const log = contextLogger(context);
  try {
    return await statusResponse(getEngine(), log);
  } catch (err) {
    return errorResponse(err, log);
  }
}

app.http("status", { methods: ["GET"], authLevel: "function", route: "status", handler: statusHttp });
