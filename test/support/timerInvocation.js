// Runs one timer invocation of the built Function App the way the worker does, in its own
// process (so that NODE_EXTRA_CA_CERTS, read at start-up, trusts the test ingestion
// endpoint): the exported handler with the library's InvocationContext, then the
// postInvocation hook's work. Each log line of the invocation is printed as JSON.
// The Functions host itself cannot run here.
const { join } = require("node:path");
const { InvocationContext } = require("@azure/functions");

const dist = join(__dirname, "..", "..", "dist");
const { billingProfileSyncTimer } = require(join(dist, "functions", "billingProfileSyncTimer.js"));
const { afterInvocation } = require(join(dist, "shared", "host", "worker.js"));

const context = new InvocationContext({
  functionName: "billingProfileSyncTimer",
  invocationId: "inv-telemetry",
  logHandler: (level, ...args) => process.stdout.write(`${JSON.stringify({ level, message: args.map(String).join(" ") })}\n`),
});
const timer = { isPastDue: false, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

billingProfileSyncTimer(timer, context)
  .then(
    () => 0,
    (err) => {
      process.stdout.write(`${JSON.stringify({ level: "invocation-failed", message: err.message })}\n`);
      return 1;
    },
  )
  .then(async (code) => {
    await afterInvocation(context);
    process.exitCode = code;
  });
