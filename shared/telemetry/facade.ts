import type { EngineOptions, FinishedRun } from "../engine";
import { redactSecrets } from "../core";
import type { Settings } from "../config";
import type { TelemetryOptions, TelemetrySink } from "./sink";

/**
 * Application Insights telemetry of runs, as the engine sees it: a small facade that is
 * always imported and costs nothing when APPLICATIONINSIGHTS_CONNECTION_STRING is unset.
 * The exporter (./exporter) is required only when telemetry is on. Whatever goes wrong
 * with telemetry (a bad setting, an exporter that does not start, an endpoint that is down
 * or silent) is reported once and never fails or holds up a sync beyond the flush bound.
 */

/** How long the end of an invocation or command may wait for telemetry to leave. */
export const DEFAULT_FLUSH_TIMEOUT_IN_MS = 2_500;

export interface Telemetry {
  /** The engine's onRunFinished: builds the run's records. Never throws. */
  record(run: FinishedRun): void;
  /**
   * A custom event outside a run, e.g. `PartnerCenterRefreshTokenRotated` with
   * `{ secretVersion, target }`. Dimensions must hold ids and names only. Never throws.
   */
  event(name: string, dimensions: Record<string, string>): void;
  /** Sends what was recorded; resolves within the flush bound, true when everything left in time. */
  flush(): Promise<boolean>;
  /** Flushes and stops (the end of a command); bounded like flush. */
  shutdown(): Promise<boolean>;
}

function reportOnce(report: (message: string) => void): (kind: string, message: string) => void {
  const told = new Set<string>();
  return (kind, message) => {
    if (told.has(kind)) return;
    told.add(kind);
    try {
      report(message);
    } catch {
      // Reporting a telemetry problem must not become a problem of its own.
    }
  };
}

class BoundedTelemetry implements Telemetry {
  constructor(
    private readonly sink: TelemetrySink,
    private readonly timeoutInMs: number,
    private readonly tell: (kind: string, message: string) => void,
  ) {}

  record(run: FinishedRun): void {
    try {
      this.sink.record(run);
    } catch (err) {
      this.tell("record", `Telemetry of a run could not be built: ${redactSecrets(err instanceof Error ? err.message : String(err))}`);
    }
  }

  event(name: string, dimensions: Record<string, string>): void {
    try {
      this.sink.event(name, dimensions);
    } catch (err) {
      this.tell("record", `Telemetry event ${name} could not be built: ${redactSecrets(err instanceof Error ? err.message : String(err))}`);
    }
  }

  flush(): Promise<boolean> {
    return this.bounded(() => this.sink.flush());
  }

  shutdown(): Promise<boolean> {
    return this.bounded(() => this.sink.shutdown());
  }

  private async bounded(work: () => Promise<void>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.timeoutInMs);
      timer.unref();
    });
    const done = work().then(
      () => true,
      (err: unknown) => {
        this.tell("send", `Telemetry could not be sent: ${redactSecrets(err instanceof Error ? err.message : String(err))}`);
        return true;
      },
    );
    const inTime = await Promise.race([done, late]);
    clearTimeout(timer);
    if (!inTime) this.tell("send", `Telemetry did not finish sending within ${this.timeoutInMs} ms; the sync went on without waiting longer.`);
    return inTime;
  }
}

/**
 * Telemetry for these settings, or undefined when it is off or cannot start (reported).
 * Requires the exporter only when the settings turn telemetry on.
 */
export function startTelemetry(settings: Settings, options: TelemetryOptions): Telemetry | undefined {
  const telemetry = settings.telemetry;
  if (telemetry.kind === "off") return undefined;
  const tell = reportOnce(options.report);
  if (telemetry.kind === "invalid") {
    tell("settings", `Telemetry is off: ${telemetry.problem}.`);
    return undefined;
  }
  const flushTimeoutInMs = options.flushTimeoutInMs ?? DEFAULT_FLUSH_TIMEOUT_IN_MS;
  const where = telemetry.ingestionEndpoint ? new URL(telemetry.ingestionEndpoint).host : "the default ingestion endpoint";
  try {
    // Lazy on purpose: the exporter and the OpenTelemetry SDK load only when telemetry is on.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { RunTelemetryExporter } = require("./exporter") as typeof import("./exporter");
    const sink = new RunTelemetryExporter(telemetry, settings.apiBaseUrl, options.mode, {
      flushTimeoutInMs,
      roleName: options.roleName ?? process.env.WEBSITE_SITE_NAME ?? "partner-billing-sync",
      onExportFailure: (message) => tell("send", `Telemetry could not be sent to ${where}: ${message}`),
      exporterClientOptions: options.exporterClientOptions,
    });
    return new BoundedTelemetry(sink, flushTimeoutInMs, tell);
  } catch (err) {
    tell("start", `Telemetry is off: the Application Insights exporter did not start: ${redactSecrets(err instanceof Error ? err.message : String(err))}`);
    return undefined;
  }
}

/** Engine options that also send each finished run to telemetry (after any onRunFinished already there). */
export function withTelemetry(options: EngineOptions, telemetry: Telemetry | undefined): EngineOptions {
  if (!telemetry) return options;
  const previous = options.onRunFinished;
  const previousEvent = options.onEvent;
  const previousRotated = options.userAuth?.onRotated;
  return {
    ...options,
    onEvent: (name, dimensions) => {
      previousEvent?.(name, dimensions);
      telemetry.event(name, dimensions);
    },
    onRunFinished: (run) => {
      previous?.(run);
      telemetry.record(run);
    },
    userAuth: {
      ...options.userAuth,
      // The refresh-token alert watches for this event: no rotation for days means the chain is dying.
      onRotated: (info) => {
        previousRotated?.(info);
        telemetry.event("PartnerCenterRefreshTokenRotated", { secretName: info.secretName, secretVersion: info.secretVersion ?? "", rotatedAt: info.rotatedAt.toISOString() });
      },
    },
  };
}
