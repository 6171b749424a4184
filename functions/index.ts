import { app } from "@azure/functions";
import { afterInvocation } from "../shared/host";

// The one entry the host loads (package.json "main"); each trigger registers itself.
app.setup({ enableHttpStream: false });
// Telemetry of the invocation leaves before the host considers it done (bounded).
app.hook.postInvocation((hook) => afterInvocation(hook.invocationContext));

import "./billingProfileSyncTimer";
import "./syncHttp";
import "./statusHttp";
