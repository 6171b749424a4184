/** Partner Center endpoints per national cloud (PARTNER_CENTER_CLOUD, docs/settings.md). */
export type CloudName = "global" | "china" | "usgov";

export interface CloudEndpoints {
  apiBaseUrl: string;
  authorityHost: string;
  /**
   * Audience of the managed identity's token that the app registration's federated
   * credential accepts as a client assertion; each cloud has its own.
   */
  tokenExchangeAudience: string;
}

export const CLOUDS: Readonly<Record<CloudName, CloudEndpoints>> = {
  global: {
    apiBaseUrl: "https://api.partnercenter.microsoft.com",
    authorityHost: "https://login.microsoftonline.com",
    tokenExchangeAudience: "api://AzureADTokenExchange",
  },
  china: {
    apiBaseUrl: "https://partner.partnercenterapi.microsoftonline.cn",
    authorityHost: "https://login.chinacloudapi.cn",
    tokenExchangeAudience: "api://AzureADTokenExchangeChina",
  },
  usgov: {
    apiBaseUrl: "https://api.partnercenter.microsoft.com",
    authorityHost: "https://login.microsoftonline.us",
    tokenExchangeAudience: "api://AzureADTokenExchangeUSGov",
  },
};

/** The delegated (App+User) scope Partner Center accepts, derived from the API base URL. */
export function partnerCenterScope(apiBaseUrl: string): string {
  return `${apiBaseUrl.replace(/\/+$/, "")}/user_impersonation`;
}
