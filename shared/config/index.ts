export { nextRun } from "./schedule";
export { loadSettings, loadUserAuthSettings } from "./settings";
export { DEFAULT_RETENTION, parseRetention } from "./retention";
export type { RetentionSettings } from "./retention";
export type { QueueSettings, Settings, StorageSettings, TelemetrySettings, UserAuthSettings } from "./settings";
