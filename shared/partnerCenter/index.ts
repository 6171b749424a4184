export { DEFAULT_PARTNER_CENTER_CALL_LIMIT, processCallGate } from "./callGate";
export { PartnerCenterClient } from "./client";
export type { AddressValidationResponse, CallOptions, CallRecord, CountryRulesResponse } from "./client";
export { CLOUDS, partnerCenterScope } from "./clouds";
export type { CloudName } from "./clouds";
export { DAY_IN_MS, PROCESS_RESPONSE_CACHE, ResponseCache } from "./responseCache";
export type { ResponseCacheOptions } from "./responseCache";
