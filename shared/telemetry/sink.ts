import type { AzureMonitorExporterOptions } from "@azure/monitor-opentelemetry-exporter";
import type { FinishedRun } from "../engine";

/** The contract between the always-loaded facade and the lazily loaded exporter. */

/** "process": a command that ends when its work is done (the CLI); "host": a long-lived worker (Functions). */
export type TelemetryMode = "process" | "host";

export interface TelemetryOptions {
  mode: TelemetryMode;
  /** Where a telemetry problem is told: once for a bad setting, once for failed sending, per process. */
  report: (message: string) => void;
  flushTimeoutInMs?: number;
  /** cloud_RoleName in Application Insights; default WEBSITE_SITE_NAME (the Function App), else partner-billing-sync. */
  roleName?: string;
  /** Extra client options for the exporter, e.g. `tlsOptions` for a private CA. */
  exporterClientOptions?: Pick<AzureMonitorExporterOptions, "tlsOptions" | "proxyOptions">;
}

/** What the exporter module provides; see ./exporter. */
export interface TelemetrySink {
  record(run: FinishedRun): void;
  event(name: string, dimensions: Record<string, string>): void;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface TelemetryStartOptions {
  flushTimeoutInMs: number;
  roleName: string;
  onExportFailure: (message: string) => void;
  exporterClientOptions?: TelemetryOptions["exporterClientOptions"];
}
