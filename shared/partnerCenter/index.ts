export { DEFAULT_PARTNER_CENTER_CALL_LIMIT, processCallGate } from "./callGate";
export { PartnerCenterClient, quoteEtag } from "./client";
export type { CallOptions, CallRecord, ListCustomersOptions, ProfileResponse, UpdateProfileOptions } from "./client";
export { nextPath, parseCustomerPage } from "./customers";
export type { CustomerPage, CustomerSummary } from "./customers";
export { CLOUDS, partnerCenterScope } from "./clouds";
export type { CloudName } from "./clouds";
export { DEFAULT_START_PER_MINUTE, RateController } from "./rateController";
export type { RateControllerOptions, RateSnapshot } from "./rateController";
