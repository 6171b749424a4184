import { app } from "@azure/functions";

// The one entry the host loads (package.json "main"); each trigger registers itself.
app.setup({ enableHttpStream: false });

import "./billingProfileSyncTimer";
import "./billingProfileSyncQueue";
import "./syncHttp";
import "./statusHttp";
