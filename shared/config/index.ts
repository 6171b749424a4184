export { nextRun } from "./schedule";
export { loadSettings, loadUserAuthSettings } from "./settings";
export { loadCheckedSettings } from "./settingsCheck";
export type { QueueSettings, Settings, StorageSettings, TelemetrySettings, UserAuthSettings } from "./settings";
