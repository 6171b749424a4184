export { startTelemetry, withTelemetry } from "./facade";
export type { Telemetry } from "./facade";
