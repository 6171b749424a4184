import { parseDesiredEntity } from "../../shared/model/desired";
import { buildPutBody, planChanges, withoutManaged } from "../../shared/model/diff";
import { getPath, type JsonObject } from "../../shared/core/json";
import { parseProfile } from "../../shared/model/profile";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { fixtureJson } from "../support/fixtures";

const live = (body: JsonObject) => parseProfile(JSON.stringify(body), "GET");
const desired = (props: Record<string, unknown>) => parseDesiredEntity("default", props);

describe("planChanges", () => {
  it("finds nothing when the live profile already holds the desired values", () => {
    expect(planChanges(desired({ PurchaseOrderNumber: "9888", Address_City: "Redmond" }), live(defaultLiveProfile()))).toEqual([]);
  });

  it("lists changed fields sorted by name, with from and to", () => {
    const changes = planChanges(desired({ TaxId: "T-1", PurchaseOrderNumber: "10001", Address_City: "Redmond" }), live(defaultLiveProfile()));
    expect(changes).toEqual([
      { field: "PurchaseOrderNumber", from: "9888", to: "10001" },
      { field: "TaxId", from: "US-91-1144442", to: "T-1" },
    ]);
  });

  it("ignores fields the desired row does not name", () => {
    expect(planChanges(desired({}), live(defaultLiveProfile()))).toEqual([]);
  });

  it("compares e-mail ignoring case and every field ignoring surrounding whitespace", () => {
    const body = defaultLiveProfile();
    (body.primaryContact as JsonObject).email = "  Billing@Contoso.Example ";
    (body.address as JsonObject).city = " Redmond";
    expect(planChanges(desired({ PrimaryContact_Email: "billing@contoso.example", Address_City: "Redmond " }), live(body))).toEqual([]);
  });

  it("treats other fields case-sensitively", () => {
    expect(planChanges(desired({ Address_City: "REDMOND" }), live(defaultLiveProfile()))).toHaveLength(1);
  });

  it("treats null, absent and empty as the same empty value", () => {
    const body = defaultLiveProfile();
    (body.address as JsonObject).region = null;
    delete (body.address as JsonObject).addressLine2;
    expect(planChanges(desired({ Address_Region: "", Address_AddressLine2: "" }), live(body))).toEqual([]);
    expect(planChanges(desired({ PurchaseOrderNumber: "" }), live(body))).toEqual([{ field: "PurchaseOrderNumber", from: "9888", to: "" }]);
  });
});

describe("buildPutBody", () => {
  it("is the live body with only the managed fields replaced, casing and ETag kept", () => {
    const profile = live(defaultLiveProfile());
    const changes = planChanges(desired({ PurchaseOrderNumber: "10001", PrimaryContact_Email: "new@contoso.example" }), profile);
    const body = buildPutBody(profile, changes);
    expect(withoutManaged(body)).toEqual(withoutManaged(profile.body));
    expect(body.purchaseOrderNumber).toBe("10001");
    expect((body.primaryContact as JsonObject).email).toBe("new@contoso.example");
    expect(getPath(body, ["attributes", "etag"])).toBe(profile.etag);
    expect(Object.keys(body)).toEqual(Object.keys(profile.body));
    expect(body).not.toHaveProperty("PurchaseOrderNumber");
  });

  it("writes PascalCase back to a PascalCase profile", () => {
    const profile = live(fixtureJson("seed-request.json"));
    const body = buildPutBody(profile, planChanges(desired({ PurchaseOrderNumber: "1", PrimaryContact_Email: "a@b.co" }), profile));
    expect(body.PurchaseOrderNumber).toBe("1");
    expect((body.PrimaryContact as JsonObject).Email).toBe("a@b.co");
    expect(body).not.toHaveProperty("purchaseOrderNumber");
  });

  it("adds a missing field or object in the casing the document uses", () => {
    const camel = defaultLiveProfile();
    delete camel.taxId;
    delete camel.primaryContact;
    const profile = live(camel);
    const body = buildPutBody(profile, planChanges(desired({ TaxId: "T", PrimaryContact_LastName: "Doe" }), profile));
    expect(body.taxId).toBe("T");
    expect(body.primaryContact).toEqual({ lastName: "Doe" });
  });

  it("does not modify the live profile it was given", () => {
    const profile = live(defaultLiveProfile());
    const before = JSON.stringify(profile.body);
    buildPutBody(profile, planChanges(desired({ PurchaseOrderNumber: "x" }), profile));
    expect(JSON.stringify(profile.body)).toBe(before);
  });
});
