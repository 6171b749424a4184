import type { TokenCredential } from "@azure/core-auth";
import {
  AzureMonitorLogExporter,
  AzureMonitorMetricExporter,
  AzureMonitorTraceExporter,
  type AzureMonitorExporterOptions,
} from "@azure/monitor-opentelemetry-exporter";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Histogram, type Tracer } from "@opentelemetry/api";
import { SeverityNumber, type Logger as OtelLogger } from "@opentelemetry/api-logs";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { PRODUCT_VERSION, redactSecrets } from "../core";
import type { FinishedRun } from "../engine";
import type { TelemetrySettings } from "../config";
import { describeRun, DRIFTED_FIELDS_METRIC, RUN_RECORD, type Dimensions, type RunTelemetry, type Severity } from "./records";
import type { TelemetryMode, TelemetrySink, TelemetryStartOptions } from "./sink";

/**
 * The Azure Monitor exporter and the few OpenTelemetry SDK pieces it needs. Loaded only
 * when telemetry is on (shared/telemetry/facade.ts requires this file lazily): importing it
 * costs a few hundred milliseconds that a run without telemetry never pays.
 *
 * Nothing here is registered globally: no global tracer or logger provider, so the Azure
 * SDK clients of the engine (Table Storage) do not start emitting spans of their own.
 */
type OnSettings = Extract<TelemetrySettings, { kind: "on" }>;
type ClientPolicy = NonNullable<AzureMonitorExporterOptions["additionalPolicies"]>[number]["policy"];

const SCOPE = "partner-billing-sync";
/** The operation name of every run: what the Application Insights UI groups runs by. */
const OPERATION_NAME_KEY = "ai.operation.name";
/** The attribute that makes a log record a custom event (customEvents) for the exporter. */
const CUSTOM_EVENT_KEY = "microsoft.custom_event.name";
/** Metrics also leave at each flush (the end of an invocation or command); this is only the background period. */
const BACKGROUND_EXPORT_INTERVAL_IN_MS = 60_000;

const SEVERITY: Record<Severity, { number: SeverityNumber; text: string }> = {
  info: { number: SeverityNumber.INFO, text: "INFO" },
  warn: { number: SeverityNumber.WARN, text: "WARN" },
  error: { number: SeverityNumber.ERROR, text: "ERROR" },
};

/**
 * Bounds each ingestion attempt, so that a silent endpoint cannot hold a process open.
 * An abort signal of our own rather than `request.timeout`: the HTTP client leaves that
 * timer running when the connection fails, which would keep a finished command alive.
 */
function attemptTimeoutPolicy(timeoutInMs: number): ClientPolicy {
  return {
    name: "billingSyncIngestionTimeout",
    sendRequest: async (request, next) => {
      const controller = new AbortController();
      const outer = request.abortSignal;
      const abort = () => controller.abort();
      outer?.addEventListener("abort", abort);
      const timer = setTimeout(abort, timeoutInMs);
      timer.unref();
      request.abortSignal = controller.signal;
      try {
        return await next(request);
      } finally {
        clearTimeout(timer);
        outer?.removeEventListener("abort", abort);
      }
    },
  };
}

function credentialFor(settings: OnSettings): TokenCredential | undefined {
  if (!settings.entra) return undefined;
  // Required here, not at the top: only Entra-authenticated telemetry pays for @azure/identity.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ManagedIdentityCredential } = require("@azure/identity") as typeof import("@azure/identity");
  return settings.entra.clientId ? new ManagedIdentityCredential({ clientId: settings.entra.clientId }) : new ManagedIdentityCredential();
}

function exporterOptions(settings: OnSettings, mode: TelemetryMode, options: TelemetryStartOptions): AzureMonitorExporterOptions {
  const oneShot = mode === "process";
  return {
    connectionString: settings.connectionString,
    credential: credentialFor(settings),
    // A one-shot command cannot send later what it stored, and must not leave files behind;
    // a retry it would wait for outlives the flush bound anyway.
    disableOfflineStorage: oneShot,
    retryOptions: oneShot ? { maxRetries: 0 } : undefined,
    additionalPolicies: [{ policy: attemptTimeoutPolicy(options.flushTimeoutInMs), position: "perRetry" }],
    ...options.exporterClientOptions,
  };
}

type Exporter = { export(items: never, done: (result: { code: number; error?: Error }) => void): void };

/** Lets the facade hear about a failed export (once is enough), without changing what the SDK sees. */
function watched<T extends Exporter>(exporter: T, onFailure: (error?: Error) => void): T {
  const original = exporter.export.bind(exporter);
  exporter.export = ((items: never, done: Parameters<Exporter["export"]>[1]) =>
    original(items, (result) => {
      if (result.code !== 0) onFailure(result.error);
      done(result);
    })) as T["export"];
  return exporter;
}

export class RunTelemetryExporter implements TelemetrySink {
  private readonly tracerProvider: BasicTracerProvider;
  private readonly loggerProvider: LoggerProvider;
  private readonly meterProvider: MeterProvider;
  private readonly tracer: Tracer;
  private readonly logger: OtelLogger;
  private readonly driftedFields: Histogram;

  constructor(
    settings: OnSettings,
    private readonly apiBaseUrl: string,
    mode: TelemetryMode,
    options: TelemetryStartOptions,
  ) {
    if (mode === "process") {
      // The SDK's own health telemetry ("statsbeat") starts a 15 s timer and a VM metadata
      // probe that would hold a finished command open; only this variable turns it off.
      process.env.APPLICATION_INSIGHTS_NO_STATSBEAT ??= "true";
    }
    const clientOptions = exporterOptions(settings, mode, options);
    const onFailure = (error?: Error) => options.onExportFailure(redactSecrets(error?.message ?? "the ingestion endpoint refused the telemetry"));
    // service.version becomes application_Version: which build sent a trace.
    const resource = resourceFromAttributes({ "service.name": options.roleName, "service.version": PRODUCT_VERSION });
    const batch = { exportTimeoutMillis: options.flushTimeoutInMs, scheduledDelayMillis: 5_000 };
    this.tracerProvider = new BasicTracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor(watched(new AzureMonitorTraceExporter(clientOptions), onFailure), batch)],
    });
    this.loggerProvider = new LoggerProvider({
      resource,
      processors: [new BatchLogRecordProcessor(watched(new AzureMonitorLogExporter(clientOptions), onFailure), batch)],
    });
    this.meterProvider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: watched(new AzureMonitorMetricExporter(clientOptions), onFailure),
          exportIntervalMillis: BACKGROUND_EXPORT_INTERVAL_IN_MS,
          exportTimeoutMillis: options.flushTimeoutInMs,
        }),
      ],
    });
    this.tracer = this.tracerProvider.getTracer(SCOPE);
    this.logger = this.loggerProvider.getLogger(SCOPE);
    this.driftedFields = this.meterProvider.getMeter(SCOPE).createHistogram(DRIFTED_FIELDS_METRIC, {
      description: "Managed fields that differed from the desired state, per run",
      unit: "{field}",
    });
  }

  record(run: FinishedRun): void {
    this.emit(describeRun(run, this.apiBaseUrl));
  }

  event(name: string, dimensions: Dimensions): void {
    this.logger.emit({
      timestamp: new Date(),
      severityNumber: SeverityNumber.INFO,
      severityText: "INFO",
      body: name,
      attributes: { ...dimensions, [CUSTOM_EVENT_KEY]: name },
    });
  }

  private emit(t: RunTelemetry): void {
    // One trace per run: its id is the operation id of every record below.
    const runSpan = this.tracer.startSpan(t.run.name, { kind: SpanKind.SERVER, startTime: t.run.startTime, attributes: t.run.dimensions }, ROOT_CONTEXT);
    const runContext = trace.setSpan(ROOT_CONTEXT, runSpan);
    for (const d of t.dependencies) {
      const span = this.tracer.startSpan(
        d.name,
        {
          kind: SpanKind.CLIENT,
          startTime: d.startTime,
          attributes: {
            ...d.dimensions,
            "http.request.method": d.method,
            "url.full": d.url,
            "server.address": new URL(d.url).host,
            ...(d.status === undefined ? {} : { "http.response.status_code": d.status }),
          },
        },
        runContext,
      );
      if (!d.success) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(d.endTime);
    }
    this.log(runContext, t.trace.time, t.trace.severity, t.trace.message, t.trace.dimensions);
    if (t.exception) {
      this.log(runContext, t.trace.time, "error", t.exception.message, {
        ...t.exception.dimensions,
        "exception.type": t.exception.type,
        "exception.message": t.exception.message,
        "exception.stacktrace": t.exception.stack,
      });
    }
    for (const event of t.events) {
      this.log(runContext, t.trace.time, "info", event.name, { ...event.dimensions, [CUSTOM_EVENT_KEY]: event.name });
    }
    if (t.driftedFields !== undefined) this.driftedFields.record(t.driftedFields, { target: t.target });
    runSpan.setStatus({ code: t.run.success ? SpanStatusCode.OK : SpanStatusCode.ERROR });
    runSpan.end(t.run.endTime);
  }

  private log(context: Context, time: Date, severity: Severity, body: string, attributes: Dimensions): void {
    this.logger.emit({
      timestamp: time,
      severityNumber: SEVERITY[severity].number,
      severityText: SEVERITY[severity].text,
      body,
      attributes: { ...attributes, [OPERATION_NAME_KEY]: RUN_RECORD },
      context,
    });
  }

  async flush(): Promise<void> {
    await Promise.all([this.tracerProvider.forceFlush(), this.loggerProvider.forceFlush(), this.meterProvider.forceFlush()]);
  }

  async shutdown(): Promise<void> {
    await Promise.all([this.tracerProvider.shutdown(), this.loggerProvider.shutdown(), this.meterProvider.shutdown()]);
  }
}
