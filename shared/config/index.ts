export { nextRun } from "./schedule";
export { DEFAULT_CALLS_PER_MINUTE, loadSettings, loadUserAuthSettings } from "./settings";
export type { QueueSettings, Settings, StorageSettings, TelemetrySettings, UserAuthSettings } from "./settings";
