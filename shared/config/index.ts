export { nextRun } from "./schedule";
export { DEFAULT_CALLS_PER_MINUTE, loadSettings, loadUserAuthSettings } from "./settings";
export { loadCheckedSettings } from "./settingsCheck";
export { DEFAULT_RETENTION, parseRetention } from "./retention";
export type { RetentionSettings } from "./retention";
export type { QueueSettings, Settings, StorageSettings, TelemetrySettings, UserAuthSettings } from "./settings";
export { DEFAULT_CHANGE_CONTROL, parseChangeControl } from "./changeControl";
export type { ChangeControlSettings } from "./changeControl";
