import { withTelemetry, type Telemetry } from "../../shared/telemetry/facade";

describe("withTelemetry", () => {
  it("reports each stored-back refresh token as PartnerCenterRefreshTokenRotated (the refresh-token alert watches it), keeping an earlier hook", () => {
    const events: [string, Record<string, string>][] = [];
    const earlier: string[] = [];
    const telemetry = { record: () => {}, event: (name: string, dimensions: Record<string, string>) => events.push([name, dimensions]) } as unknown as Telemetry;
    const options = withTelemetry({ userAuth: { onRotated: (info) => earlier.push(info.secretName) } }, telemetry);
    options.userAuth!.onRotated!({ secretName: "contoso-eu-refresh", secretVersion: "v2", rotatedAt: new Date("2026-11-22T00:00:00Z") });
    expect(events).toEqual([["PartnerCenterRefreshTokenRotated", { secretName: "contoso-eu-refresh", secretVersion: "v2", rotatedAt: "2026-11-22T00:00:00.000Z" }]]);
    expect(earlier).toEqual(["contoso-eu-refresh"]);
  });

  it("changes nothing when telemetry is off", () => {
    const options = { retry: {} };
    expect(withTelemetry(options, undefined)).toBe(options);
  });
});
