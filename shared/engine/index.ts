export { Engine } from "./engine";
export type { EngineOptions } from "./engine";
export type { FinishedRun } from "./run";
export { DEFAULT_STATUS_PAGE_SIZE, MAX_STATUS_PAGE_SIZE } from "./status";
export type { StatusPage, StatusSummary, TargetStatus } from "./status";
export { applyDesiredEdit, planAdopt, planRestore } from "./undo";
export type { DesiredEdit } from "./undo";
export { adoptAllCustomers, applyImport, listDesiredRows, planImport } from "./bulkDesired";
export type { AdoptAllReport, BulkProgress, ImportPlan, RowInput, RowProblem } from "./bulkDesired";
