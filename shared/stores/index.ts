export { DesiredStateStore } from "./desiredStore";
export { HistoryStore, publicRecord } from "./historyStore";
export type { HistoryRecord, PublicHistoryRecord } from "./historyStore";
export { LeaseStore } from "./leaseStore";
export type { Lease, LeaseInfo } from "./leaseStore";
export { TableFactory } from "./tables";
export type { StorageRetryOptions, TableFactoryOptions } from "./tables";
export { TargetQueue, parseTargetMessage } from "./targetQueue";
export type { PoisonEntry } from "./targetQueue";
