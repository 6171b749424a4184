import { redactSecrets, SyncError } from "../../shared/core/errors";
import { jsonErrorPosition } from "../../shared/core/json";
import { redactKnownSecrets, registerSecret } from "../../shared/core/secrets";
import { azureErrorCode, isOAuthErrorCode, numericCode, oauthError } from "../../shared/core/serviceCodes";
import { maskOutsideText, maskShapes } from "../../shared/model/mask";
import { Redactor } from "../../shared/model/redactor";
import { defaultLiveProfile } from "../../simulator/defaultProfile";

describe("secrets held by the process are removed by value", () => {
  it("in any shape a service might echo them: as is, URL-encoded, form-encoded, JSON-escaped", () => {
    const secret = "cs~a+b/c=d\"e'f_0123456789";
    registerSecret(secret);
    const text = [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString(), JSON.stringify({ s: secret })].join(" | ");
    const out = redactKnownSecrets(text);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(encodeURIComponent(secret));
    expect(out).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(out.match(/\[redacted\]/g)?.length).toBe(4);
  });

  it("in every SyncError message and description, whatever built it", () => {
    const token = "opaque-token-not-a-jwt-0123456789abcdef";
    registerSecret(token);
    const error = new SyncError("PartnerCenterError", `the service said: your token ${token} is bad`, { description: `echo ${token}` });
    expect(error.message).toBe("the service said: your token [redacted] is bad");
    expect(error.description).toBe("echo [redacted]");
    expect(redactSecrets(`x ${token} y`)).toBe("x [redacted] y");
  });

  it("ignores short values, which would garble text without protecting anything", () => {
    registerSecret("abc");
    registerSecret(undefined);
    expect(redactKnownSecrets("abc def")).toBe("abc def");
  });
});

describe("service codes are kept only in their real shape", () => {
  it.each([
    [numericCode, 2055, "2055"],
    [numericCode, "900421", "900421"],
    [numericCode, "2055; Avery Example", undefined],
    [numericCode, -1, undefined],
    [numericCode, 1.5, undefined],
    [numericCode, "12345678901", undefined],
    [numericCode, { code: 1 }, undefined],
    [oauthError, "invalid_grant", "invalid_grant"],
    [oauthError, 'a"quote', undefined],
    [oauthError, "back\\slash", undefined],
    [oauthError, "x".repeat(65), undefined],
    [oauthError, "line\nbreak", undefined],
    [azureErrorCode, "SecretNotFound", "SecretNotFound"],
    [azureErrorCode, "ECONNREFUSED", "ECONNREFUSED"],
    [azureErrorCode, "Not found: avery@contoso.example", undefined],
  ] as [(v: unknown) => string | undefined, unknown, string | undefined][])("%p(%j) = %j", (check, value, expected) => {
    expect(check(value)).toBe(expected);
  });

  it("an OAuth error reaches the serviceCode dimension only in the registered form", () => {
    expect(["invalid_grant", "slow_down"].every(isOAuthErrorCode)).toBe(true);
    expect(["Invalid Grant", "a b", "invalid-grant", ""].some(isOAuthErrorCode)).toBe(false);
  });
});

describe("maskShapes", () => {
  it.each([
    ["an e-mail address", "write to avery.former@contoso.example now", "write to a***@*** now"],
    ["a phone number with spaces", "call +1 425 555 0100 today", "call +*** today"],
    ["a phone number with brackets", "call (425) 555-0100", "call (***"],
    ["a dashed tax id", "tax id US-91-1144442 refused", "tax id U*** refused"],
    ["a VAT number", "VAT DE999888777.", "VAT D***"],
    ["a long digit run", "account 12345678", "account 1***"],
  ])("masks %s", (_label, text, expected) => {
    expect(maskShapes(text)).toBe(expected);
  });

  it("keeps what identifies a request, and short numbers", () => {
    const text = "AADSTS700082 for request 0f8fad5b-d9cb-469f-a165-70867728950e: try again in 57 seconds (code 2055)";
    expect(maskShapes(text)).toBe(text);
  });
});

describe("maskOutsideText", () => {
  it("masks known values first (ignoring case, JSON-escaped too), then shapes; one line, bounded", () => {
    const values = ["1 Microsoft Way", "Avery", 'O"Brien'];
    const text = 'Address 1 MICROSOFT WAY for avery\r\nerror forged line {"lastName":"O\\"Brien"}';
    const out = maskOutsideText(text, values);
    expect(out).toBe('Address 1*** for a*** error forged line {"lastName":"O***"}');
    expect(maskOutsideText("x".repeat(1000)).length).toBeLessThanOrEqual(301);
  });

  it("masks a value as a word, not inside a longer one", () => {
    expect(maskOutsideText("Art Example: Partner Center refused Art's address", ["Art"])).toBe("A*** Example: Partner Center refused A***'s address");
  });

  it("masks a value before a shape could cut it into pieces that no longer match", () => {
    // By shape alone the digit run would be masked and "US-" kept; by value the whole id goes.
    expect(maskOutsideText("id US-91-1144442", ["US-91-1144442"])).toBe("id U***");
  });
});

describe("Redactor", () => {
  const live = defaultLiveProfile();

  it("withholds outside text until the run has read the profile, then masks with everything it knows", () => {
    const redactor = new Redactor().addDesiredProperties({ PrimaryContact_FirstName: "Morgan", PurchaseOrderNumber: "PO-1", Mode: "enforce" });
    const said = "Avery Example (Morgan) at 1 Microsoft Way";
    expect(redactor.outside(said)).toBeUndefined();
    redactor.addProfile(live);
    expect(redactor.outside(said)).toBe("A*** E*** (M***) at 1***");
    expect(redactor.values).toEqual(expect.arrayContaining(["Morgan", "Avery", "Example", "1 Microsoft Way", "US-91-1144442", "+1 425 555 0100", "avery.former@contoso.example"]));
    expect(redactor.values).not.toContain("PO-1");
  });

  it("takes the profile's personal fields partners cannot set too", () => {
    const body = { ...live, address: { ...(live.address as object), firstName: "Robin", lastName: "Roe", phoneNumber: "+44 20 7946 0000" } };
    expect(new Redactor().addProfile(body).values).toEqual(expect.arrayContaining(["Robin", "Roe", "+44 20 7946 0000"]));
  });

  it("known(): our own text keeps its ids readable while values are masked", () => {
    const redactor = new Redactor().addProfile(live);
    expect(redactor.known("Run 0f8fad5b-d9cb-469f-a165-70867728950e: Avery (code 2055)")).toBe("Run 0f8fad5b-d9cb-469f-a165-70867728950e: A*** (code 2055)");
  });

  it("a context without a profile (a sign-in) masks by shape", () => {
    expect(new Redactor({ profileFree: true }).outside("user avery@contoso.example")).toBe("user a***@***");
  });
});

describe("jsonErrorPosition", () => {
  it.each([
    ["{ nope", 1, 3],
    ['{"a": "DE123456789"\n, "b": tru}', 2, 8],
    ['{"a":1,}', 1, 8],
    ['{"taxId": "DE1', 1, 15],
  ])("%j: line %i, column %i, without quoting the text", (text, line, column) => {
    let error: unknown;
    try {
      JSON.parse(text);
    } catch (err) {
      error = err;
    }
    expect(jsonErrorPosition(error, text)).toEqual({ line, column });
  });
});
