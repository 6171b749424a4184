// A stand-in for the Azure Functions Node.js worker, run in its own process with the
// deployed package folder as working directory. The Functions host and its worker cannot run
// here (they are .NET and gRPC); this does the worker's part of their contract, so that the
// package's own @azure/functions (bundled in main.js) is exercised as in Azure:
// - it provides the built-in module @azure/functions-core the way the worker does, by
//   answering require("@azure/functions-core") (the worker proxies Module.prototype.require);
// - it loads package.json "main" and records what registerFunction indexes;
// - it invokes a function through the programming model the package registered
//   (getInvocationModel → getArguments → preInvocation hooks → invokeFunction →
//   postInvocation hooks → getResponse), with RPC-shaped invocation requests.
// Input: JSON in the environment variable WORKER_PLAN: [{ function, http | timer | queue }].
// Output: one line "@@WORKER <json>" with the indexed functions and each invocation's result.
const Module = require("node:module");
const { join } = require("node:path");
const { Buffer } = require("node:buffer");

const functions = new Map();
const hooks = { preInvocation: [], postInvocation: [], appStart: [], appTerminate: [] };
let programmingModel;
const logs = [];

class CoreDisposable {
  constructor(callback) {
    this.callback = callback;
  }
  dispose() {
    this.callback?.();
    this.callback = undefined;
  }
}

const coreApi = {
  version: "stand-in",
  hostVersion: "4.0.0-stand-in",
  registerFunction(metadata, callback) {
    if (functions.has(metadata.name)) throw new Error(`A function named "${metadata.name}" is already registered.`);
    functions.set(metadata.name, { metadata, callback });
    return new CoreDisposable(() => functions.delete(metadata.name));
  },
  registerHook(name, callback) {
    (hooks[name] ??= []).push(callback);
    return new CoreDisposable(() => hooks[name].splice(hooks[name].indexOf(callback), 1));
  },
  setProgrammingModel(model) {
    programmingModel = model;
  },
  getProgrammingModel() {
    return programmingModel;
  },
  log(level, category, message) {
    logs.push({ level, category, message });
  },
  Disposable: CoreDisposable,
};

Module.prototype.require = new Proxy(Module.prototype.require, {
  apply(target, thisArg, args) {
    return args[0] === "@azure/functions-core" ? coreApi : Reflect.apply(target, thisArg, args);
  },
});

function triggerOf(metadata) {
  const entry = Object.entries(metadata.bindings).find(([, binding]) => /trigger$/i.test(binding.type));
  if (!entry) throw new Error(`${metadata.name} has no trigger binding`);
  return { name: entry[0], binding: entry[1] };
}

/** The invocation request the host sends over gRPC, for one trigger input. */
function invocationRequest(step, metadata, invocationId) {
  const trigger = triggerOf(metadata);
  let data;
  let triggerMetadata = {};
  if (step.http) {
    const { method, path, body, headers = {} } = step.http;
    const url = `https://stand-in.azurewebsites.net${path}`;
    data = { http: { method, url, headers: { ...headers }, query: {}, params: {}, body: body === undefined ? undefined : { string: body } } };
  } else if (step.timer) {
    data = { json: JSON.stringify({ Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: false, ...step.timer }) };
  } else if (step.queue !== undefined) {
    // The host decodes base64 (host.json messageEncoding) and sends the text.
    data = { string: step.queue };
    triggerMetadata = { DequeueCount: { json: "1" }, Id: { string: invocationId } };
  } else {
    throw new Error(`step for ${step.function} has no http, timer or queue input`);
  }
  return { invocationId, functionId: metadata.name, inputData: [{ name: trigger.name, data }], triggerMetadata };
}

function decodeResponse(response) {
  const http = response.returnValue?.http;
  if (!http) return { returnValue: response.returnValue ?? null };
  const bytes = http.body?.bytes;
  const text = bytes ? Buffer.from(bytes).toString("utf8") : (http.body?.string ?? "");
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: Number(http.statusCode), headers: http.headers, body };
}

async function invoke(step, index) {
  const registered = functions.get(step.function);
  if (!registered) throw new Error(`no function "${step.function}" was registered; registered: ${[...functions.keys()].join(", ")}`);
  const invocationId = `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`;
  const invocationLogs = [];
  const coreContext = {
    invocationId,
    request: invocationRequest(step, registered.metadata, invocationId),
    metadata: { name: registered.metadata.name, bindings: registered.metadata.bindings },
    state: undefined,
    log: (level, category, message) => invocationLogs.push({ level, category, message }),
  };
  const model = programmingModel.getInvocationModel(coreContext);
  const { context, inputs } = await model.getArguments();
  const hookData = {};
  coreContext.state = "preInvocationHooks";
  const pre = { hookData, invocationContext: context, inputs, functionCallback: registered.callback };
  for (const hook of hooks.preInvocation) await hook(pre);
  coreContext.state = "invocation";
  let result;
  let error;
  try {
    result = await model.invokeFunction(context, pre.inputs, pre.functionCallback);
  } catch (err) {
    error = err;
  }
  coreContext.state = "postInvocationHooks";
  const post = { hookData, invocationContext: context, inputs: pre.inputs, result, error };
  for (const hook of hooks.postInvocation) await hook(post);
  coreContext.state = undefined;
  if (post.error) return { function: step.function, error: String(post.error?.message ?? post.error), logs: invocationLogs };
  return { function: step.function, ...decodeResponse(await model.getResponse(context, post.result)), logs: invocationLogs };
}

(async () => {
  const pkg = require(join(process.cwd(), "package.json"));
  require(join(process.cwd(), pkg.main));
  // The worker reports what was indexed when the host asks for function metadata.
  const indexed = [...functions.values()].map(({ metadata }) => ({ name: metadata.name, bindings: metadata.bindings }));
  const plan = JSON.parse(process.env.WORKER_PLAN ?? "[]");
  const results = [];
  for (const [index, step] of plan.entries()) results.push(await invoke(step, index));
  const hookCounts = Object.fromEntries(Object.entries(hooks).map(([name, list]) => [name, list.length]));
  process.stdout.write(`\n@@WORKER ${JSON.stringify({ node: process.version, programmingModel: programmingModel && { name: programmingModel.name, version: programmingModel.version }, functions: indexed, hooks: hookCounts, results, logs })}\n`);
})().catch((err) => {
  process.stderr.write(String(err?.stack ?? err));
  process.exit(1);
});
