export { PartnerCenterClient, quoteEtag } from "./client";
export type { CallOptions, CallRecord, ProfileResponse, UpdateProfileOptions } from "./client";
export { CLOUDS, partnerCenterScope } from "./clouds";
export type { CloudName } from "./clouds";
