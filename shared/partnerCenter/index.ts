export { PartnerCenterClient } from "./client";
export type { CallOptions, CallRecord } from "./client";
export { CLOUDS, partnerCenterScope } from "./clouds";
export type { CloudName } from "./clouds";
