export { Engine } from "./engine";
export type { EngineOptions } from "./engine";
export type { Preflight } from "./preflight";
export type { FinishedRun } from "./run";
export type { TargetStatus } from "./status";
export { applyDesiredEdit, planAdopt, planRestore } from "./undo";
export type { DesiredEdit } from "./undo";
