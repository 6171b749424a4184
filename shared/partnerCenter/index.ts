export { DEFAULT_PARTNER_CENTER_CALL_LIMIT, processCallGate } from "./callGate";
export { PartnerCenterClient } from "./client";
export type { CallOptions, CallRecord } from "./client";
export { CLOUDS, partnerCenterScope } from "./clouds";
export type { CloudName } from "./clouds";
