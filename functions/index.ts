import { app } from "@azure/functions";

// The one entry the host loads (package.json "main"); each trigger registers itself.
app.setup({ enableHttpStream: false });

export { billingProfileSyncTimer } from "./billingProfileSyncTimer";
export { billingProfileSyncQueue } from "./billingProfileSyncQueue";
export { syncHttp } from "./syncHttp";
export { statusHttp } from "./statusHttp";
