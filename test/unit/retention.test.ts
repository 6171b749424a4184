import { DEFAULT_RETENTION, loadSettings, parseRetention } from "../../shared/config";

const base = { PARTNER_CENTER_AUTH: "static", PARTNER_CENTER_ACCESS_TOKEN: "t", BILLING_SYNC_STORAGE: "UseDevelopmentStorage=true" };

describe("retention settings", () => {
  it("default to 400 days of history and 35 days of check rows", () => {
    expect(parseRetention({})).toEqual({ historyDays: 400, checkDays: 35 });
    expect(loadSettings(base).retention).toEqual(DEFAULT_RETENTION);
  });

  it("take whole numbers of days", () => {
    expect(parseRetention({ BILLING_SYNC_HISTORY_RETENTION_DAYS: "730", BILLING_SYNC_CHECK_RETENTION_DAYS: " 7 " })).toEqual({ historyDays: 730, checkDays: 7 });
  });

  it.each([
    ["BILLING_SYNC_HISTORY_RETENTION_DAYS", "0"],
    ["BILLING_SYNC_HISTORY_RETENTION_DAYS", "-5"],
    ["BILLING_SYNC_CHECK_RETENTION_DAYS", "0"],
    ["BILLING_SYNC_CHECK_RETENTION_DAYS", "-1"],
    ["BILLING_SYNC_CHECK_RETENTION_DAYS", "1.5"],
    ["BILLING_SYNC_CHECK_RETENTION_DAYS", "a week"],
    ["BILLING_SYNC_HISTORY_RETENTION_DAYS", "99999999"],
  ])("refuse %s=%s with an error naming the setting", (name, value) => {
    expect(() => loadSettings({ ...base, [name]: value })).toThrow(expect.objectContaining({ code: "ConfigError", message: expect.stringContaining(`Setting ${name} must be a whole number of days from 1`) }));
    expect(() => loadSettings({ ...base, [name]: value })).toThrow(`got "${value}"`);
  });
});
