import { loadCheckedSettings } from "../../shared/config";

const message = (env: Record<string, string>) => {
  try {
    loadCheckedSettings(env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("no ConfigError");
};

describe("the settings check", () => {
  it("names every missing or wrong setting at once, not one per run", () => {
    const text = message({ PARTNER_CENTER_AUTH: "user", PARTNER_CENTER_CLIENT_ID: "not-a-guid", PARTNER_CENTER_CLOUD: "germany" });
    expect(text.split("\n")[0]).toBe("5 settings need attention:");
    for (const name of ["PARTNER_CENTER_CLOUD", "PARTNER_CENTER_TENANT_ID", "PARTNER_CENTER_CLIENT_ID", "PARTNER_CENTER_KEY_VAULT_URL", "BILLING_SYNC_STORAGE"]) expect(text).toContain(`Setting ${name} `);
    expect(text).not.toMatch(/Nothing is configured/);
  });

  it("with nothing set, points first to the simulator's settings and the demo", () => {
    const text = message({});
    expect(text.split("\n")[0]).toBe("Nothing is configured. To try billing-sync locally, against the Partner Center simulator:");
    expect(text).toMatch(/billing-sync simulator .*PARTNER_CENTER_AUTH=static and PARTNER_CENTER_ACCESS_TOKEN/);
    expect(text).toMatch(/Setting BILLING_SYNC_STORAGE is required/);
  });

  it("one problem reads as before; valid settings load", () => {
    expect(message({ PARTNER_CENTER_AUTH: "static", PARTNER_CENTER_ACCESS_TOKEN: "t", BILLING_SYNC_STORAGE: "UseDevelopmentStorage=true", BILLING_SYNC_SCHEDULE: "bad" })).toMatch(/^Setting BILLING_SYNC_SCHEDULE must be an NCRONTAB expression/);
    expect(loadCheckedSettings({ PARTNER_CENTER_AUTH: "static", PARTNER_CENTER_ACCESS_TOKEN: "t", BILLING_SYNC_STORAGE: "UseDevelopmentStorage=true" }).auth.kind).toBe("static");
  });
});
