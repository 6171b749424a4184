import { clientSecretValue } from "../../shared/auth/clientAuth";
import { signInWithDeviceCode, type DeviceCodePrompt } from "../../shared/auth/deviceCode";
import { expectNoSecrets } from "../support/authRig";
import { FakeTokenEndpoint } from "../support/fakeTokenEndpoint";

/** The device authorization grant against the local token endpoint; waits are recorded, not slept. */
const TENANT = "0f3c2a77-5b8e-4a52-9d43-7c1e0a9b1c01";
const CLIENT = "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const SECRET = "client-secret-for-login-0123456789";
const SCOPE = "https://api.partnercenter.microsoft.com/user_impersonation";

let endpoint: FakeTokenEndpoint;
let waits: number[];
let prompts: DeviceCodePrompt[];

beforeEach(async () => {
  endpoint = new FakeTokenEndpoint({ tenantId: TENANT, clientId: CLIENT, clientSecret: SECRET });
  await endpoint.start();
  waits = [];
  prompts = [];
});
afterEach(() => endpoint.stop());

function signIn() {
  return signInWithDeviceCode({
    authorityHost: endpoint.url,
    tenantId: TENANT,
    clientId: CLIENT,
    scope: SCOPE,
    clientAuth: clientSecretValue(SECRET),
    onPrompt: (p) => prompts.push(p),
    sleep: async (ms) => void waits.push(ms),
  });
}

describe("device-code sign-in", () => {
  it("shows the address and code, polls while pending, and returns a refresh token", async () => {
    endpoint.nextDeviceLogin = { pendingPolls: 2, outcome: "approve" };
    const tokens = await signIn();
    expect(prompts).toEqual([{ verificationUri: "https://microsoft.com/devicelogin", userCode: "FAKE-CODE", expiresInSeconds: 900 }]);
    expect(tokens.refreshToken && endpoint.issued.includes(tokens.refreshToken)).toBe(true);
    expect(waits).toEqual([1000, 1000, 1000]);
    const [start, ...polls] = endpoint.requests;
    expect(start.path).toBe(`/${TENANT}/oauth2/v2.0/devicecode`);
    expect(start.form).toEqual({ client_id: CLIENT, scope: `${SCOPE} offline_access` });
    expect(polls).toHaveLength(3);
    // A confidential client: its credential goes with every poll, so the refresh token can later be redeemed with it.
    expect(polls.every((p) => p.form.grant_type === "urn:ietf:params:oauth:grant-type:device_code" && p.form.client_secret === SECRET)).toBe(true);
    expectNoSecrets({ prompts: JSON.stringify(prompts) }, [...endpoint.issued, SECRET]);
  });

  it("slows down by 5 s when asked to", async () => {
    endpoint.nextDeviceLogin = { pendingPolls: 0, outcome: "approve", slowDownFirst: true };
    await signIn();
    expect(waits).toEqual([1000, 6000]);
  });

  it("a declined sign-in stores nothing and says so", async () => {
    endpoint.nextDeviceLogin = { pendingPolls: 0, outcome: "decline" };
    await expect(signIn()).rejects.toMatchObject({ code: "AuthError", message: "The sign-in was declined: nothing was stored." });
  });

  it("an expired code asks to run auth login again", async () => {
    endpoint.nextDeviceLogin = { pendingPolls: 0, outcome: "expire" };
    await expect(signIn()).rejects.toThrow(/The code expired before the sign-in finished: run `billing-sync auth login` again/);
  });

  it("a wrong app id is named", async () => {
    const error = await signInWithDeviceCode({
      authorityHost: endpoint.url,
      tenantId: TENANT,
      clientId: "99999999-9999-4999-8999-999999999999",
      scope: SCOPE,
      onPrompt: () => {},
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "AuthError", serviceCode: "AADSTS700016" });
    expect((error as Error).message).toMatch(/PARTNER_CENTER_CLIENT_ID/);
  });
});
