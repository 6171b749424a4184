import { app, type InvocationContext } from "@azure/functions";
import { handlers } from "./lazyHandlers";

// The one entry the host loads (package.json "main"); each trigger registers itself.
app.setup({ enableHttpStream: false });

/** The end of every invocation: its telemetry leaves before the host considers it done (bounded). */
export function afterInvocation(context: InvocationContext): Promise<void> {
  return handlers().afterInvocation(context);
}
app.hook.postInvocation((hook) => afterInvocation(hook.invocationContext));

export { billingProfileSyncTimer } from "./billingProfileSyncTimer";
export { billingProfileSyncQueue } from "./billingProfileSyncQueue";
export { syncHttp } from "./syncHttp";
export { statusHttp } from "./statusHttp";
export { billingProfilePurgeTimer } from "./billingProfilePurgeTimer";
