export { nextRun } from "./schedule";
export { loadSettings, loadUserAuthSettings } from "./settings";
export type { QueueSettings, Settings, StorageSettings, TelemetrySettings, UserAuthSettings } from "./settings";
