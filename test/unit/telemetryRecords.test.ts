import { SyncError } from "../../shared/core/errors";
import type { CallRecord } from "../../shared/partnerCenter/client";
import type { FinishedRun } from "../../shared/engine";
import { OUTCOMES, type Outcome } from "../../shared/model/runResult";
import { describeRun, FAILED_OUTCOMES, personalValues } from "../../shared/telemetry/records";

const BASE_URL = "https://api.partnercenter.microsoft.com";
const STARTED = "2026-05-04T10:00:00.000Z";

function call(method: "GET" | "PUT", requestId: string, extra: Partial<CallRecord> = {}): CallRecord {
  return {
    method,
    path: "/v1/profiles/billing",
    operation: `${method} /v1/profiles/billing`,
    status: 200,
    requestId,
    correlationId: "corr-1",
    msCv: `cv-${requestId}`,
    msServerId: "srv-1",
    attempt: 0,
    startedAt: STARTED,
    durationMs: 40,
    ...extra,
  };
}

const CHANGES = [
  { field: "PrimaryContact_Email", from: "avery.former@contoso.example", to: "billing@contoso.example" },
  { field: "PurchaseOrderNumber", from: "9888", to: "PO-1" },
  { field: "TaxId", from: "US-91-1144442", to: "DE123456789" },
];

function finished(
  outcome: Outcome,
  options: { calls?: CallRecord[]; changes?: typeof CHANGES; error?: SyncError; putMade?: boolean; dryRun?: boolean; personalValues?: string[] } = {},
): FinishedRun {
  const calls = options.calls ?? [call("GET", "get-1")];
  const changes = options.changes ?? [];
  const putMade = options.putMade ?? false;
  const error = options.error
    ? { code: options.error.code, message: options.error.message, status: options.error.statusCode, correlationId: "corr-1", requestId: options.error.requestId }
    : null;
  return {
    result: {
      runId: "run-1",
      target: "contoso",
      resource: { kind: "partner-billing-profile" },
      trigger: "timer",
      dryRun: options.dryRun ?? false,
      outcome,
      changes,
      correlationId: "corr-1",
      requestIds: calls.map((c) => c.requestId),
      durationMs: 120,
      error,
      recorded: true,
    },
    record: {
      runId: "run-1",
      target: "contoso",
      resourceKind: "partner-billing-profile",
      trigger: "timer",
      dryRun: options.dryRun ?? false,
      outcome,
      changedFields: changes.map((c) => c.field),
      changes,
      correlationId: "corr-1",
      requestIds: calls.map((c) => c.requestId),
      getRequestId: calls.find((c) => c.method === "GET")?.requestId,
      putRequestId: calls.find((c) => c.method === "PUT")?.requestId,
      putMade,
      profileBefore: putMade ? { primaryContact: { firstName: "Avery", lastName: "Example", email: "avery.former@contoso.example" }, taxId: "US-91-1144442" } : undefined,
      error,
      startedAt: STARTED,
      durationMs: 120,
    },
    calls,
    changes,
    error: options.error,
    personalValues: options.personalValues ?? [],
  };
}

describe("describeRun", () => {
  it("a corrected run: the trace carries exactly the dimensions of the contract, the PUT's MS-CV, and one DriftCorrected event", () => {
    const t = describeRun(finished("corrected", { calls: [call("GET", "get-1"), call("PUT", "put-1")], changes: CHANGES, putMade: true }), BASE_URL);
    expect(t.trace.message).toBe("BillingProfileSyncRun");
    expect(t.trace.dimensions).toEqual({
      runId: "run-1",
      target: "contoso",
      resourceKind: "partner-billing-profile",
      customerTenantId: "",
      trigger: "timer",
      outcome: "corrected",
      dryRun: "false",
      changedFields: "PrimaryContact_Email,PurchaseOrderNumber,TaxId",
      correlationId: "corr-1",
      getRequestId: "get-1",
      putRequestId: "put-1",
      msCv: "cv-put-1",
      msServerId: "srv-1",
      errorCode: "",
      errorStatus: "",
      serviceCode: "",
    });
    expect(t.events.map((e) => e.name)).toEqual(["BillingProfileDriftCorrected"]);
    expect(t.driftedFields).toBe(3);
    expect(t.exception).toBeUndefined();
    expect(t.run).toMatchObject({ name: "BillingProfileSyncRun", success: true, startTime: new Date(STARTED), endTime: new Date(Date.parse(STARTED) + 120) });
  });

  it("one dependency per HTTP attempt, retries included, with its status, request id and timing", () => {
    const calls = [call("GET", "get-1", { status: 503, attempt: 0 }), call("GET", "get-1", { status: undefined, errorCode: "NetworkError", attempt: 1 }), call("GET", "get-1", { attempt: 2, durationMs: 7 })];
    const t = describeRun(finished("in-sync", { calls }), BASE_URL);
    expect(t.dependencies.map((d) => [d.name, d.status, d.success, d.dimensions.requestId, d.dimensions.attempt, d.dimensions.errorCode])).toEqual([
      ["GET /v1/profiles/billing", 503, false, "get-1", "0", ""],
      ["GET /v1/profiles/billing", undefined, false, "get-1", "1", "NetworkError"],
      ["GET /v1/profiles/billing", 200, true, "get-1", "2", ""],
    ]);
    expect(t.dependencies[2].url).toBe(`${BASE_URL}/v1/profiles/billing`);
    expect(t.dependencies[2].endTime.getTime() - t.dependencies[2].startTime.getTime()).toBe(7);
    expect(t.driftedFields).toBe(0);
    expect(t.events).toEqual([]);
  });

  it("a held run names its sweep and why; the sweep's first held run carries the one MassDriftHeld event", () => {
    const run = finished("held", { changes: CHANGES });
    const massDrift = { name: "MassDriftHeld", dimensions: { sweepId: "s-1", message: "mass drift: 21 targets differ from their desired state", putLimit: "20", targetsDiffering: "21", sweepTargets: "100", trigger: "timer" } };
    const t = describeRun({ ...run, result: { ...run.result, sweepId: "s-1", heldReason: "sweep-limit" }, events: [massDrift] }, BASE_URL);
    expect(t.trace.dimensions).toMatchObject({ outcome: "held", sweepId: "s-1", heldReason: "sweep-limit" });
    expect(t.events.map((e) => e.name)).toEqual(["BillingProfileDriftDetected", "MassDriftHeld"]);
    expect(t.events[1].dimensions).toMatchObject({ ...massDrift.dimensions, runId: "run-1", target: "contoso" });
    expect(t.run.success).toBe(true);
  });

  it("drift found and not applied (dry run, observe, a PUT refused) is BillingProfileDriftDetected", () => {
    expect(describeRun(finished("drift", { changes: CHANGES, dryRun: true }), BASE_URL).events.map((e) => e.name)).toEqual(["BillingProfileDriftDetected"]);
    const refused = new SyncError("PartnerCenterError", "Partner Center answered 400", { statusCode: 400, serviceCode: "2001", requestId: "put-1" });
    const t = describeRun(finished("failed", { calls: [call("GET", "get-1"), call("PUT", "put-1", { status: 400 })], changes: CHANGES, error: refused }), BASE_URL);
    expect(t.events.map((e) => e.name)).toEqual(["BillingProfileDriftDetected"]);
    expect(t.trace.severity).toBe("error");
    expect(t.run.success).toBe(false);
  });

  it("a failed run: an exception with the typed error fields, its message masked with the run's personal values", () => {
    const error = new SyncError("PartnerCenterError", "Partner Center answered 400 to PUT (code 2001: TaxId DE123456789 is not valid for billing@contoso.example).", {
      statusCode: 400,
      serviceCode: "2001",
      correlationId: "corr-1",
      requestId: "put-1",
    });
    const t = describeRun(finished("failed", { calls: [call("GET", "get-1"), call("PUT", "put-1", { status: 400 })], changes: CHANGES, error }), BASE_URL);
    expect(t.trace.dimensions).toMatchObject({ errorCode: "PartnerCenterError", errorStatus: "400", serviceCode: "2001" });
    expect(t.exception).toMatchObject({
      type: "SyncError.PartnerCenterError",
      message: "Partner Center answered 400 to PUT (code 2001: TaxId D*** is not valid for b***@***).",
      dimensions: { code: "PartnerCenterError", statusCode: "400", serviceCode: "2001", correlationId: "corr-1", requestId: "put-1", runId: "run-1", outcome: "failed" },
    });
    expect(t.exception!.stack).not.toContain("DE123456789");
    expect(t.exception!.stack.split("\n").length).toBeGreaterThan(1);
  });

  it("runs that never compared have no metric; a run that found the target busy has no exception", () => {
    expect(describeRun(finished("suspended", { calls: [] }), BASE_URL).driftedFields).toBeUndefined();
    const invalid = describeRun(finished("invalid-desired", { calls: [], error: new SyncError("InvalidDesiredState", "bad row") }), BASE_URL);
    expect(invalid.driftedFields).toBeUndefined();
    expect(invalid.exception?.type).toBe("SyncError.InvalidDesiredState");
    const busy = describeRun(finished("in-progress", { calls: [], error: new SyncError("InProgress", "held elsewhere") }), BASE_URL);
    expect(busy.exception).toBeUndefined();
    expect(busy.run.success).toBe(true);
  });

  it("classifies the four day-2 outcomes as outcomeClass.ts writes down: interrupted and uncertain unsuccessful, held and gone successful, none at error severity (the failed-sync alert's)", () => {
    const of = (outcome: Outcome, error?: SyncError) => {
      const t = describeRun(finished(outcome, { error }), BASE_URL);
      return { outcome, success: t.run.success, severity: t.trace.severity, alerted: FAILED_OUTCOMES.has(outcome) };
    };
    expect([
      of("interrupted", new SyncError("Interrupted", "stopped (SIGTERM)")),
      of("uncertain", new SyncError("NetworkError", "socket hang up")),
      of("held"),
      of("gone", new SyncError("Forbidden", "403", { statusCode: 403 })),
      of("deferred", new SyncError("Throttled", "429", { statusCode: 429 })),
    ]).toEqual([
      { outcome: "interrupted", success: false, severity: "warn", alerted: false },
      { outcome: "uncertain", success: false, severity: "warn", alerted: false },
      { outcome: "held", success: true, severity: "warn", alerted: false },
      { outcome: "gone", success: true, severity: "warn", alerted: false },
      { outcome: "deferred", success: true, severity: "info", alerted: false },
    ]);
  });

  it("a run is unsuccessful at error severity exactly when the failed-sync alert fires on its outcome, or warn and unsuccessful when the next run settles it", () => {
    for (const outcome of OUTCOMES) {
      const t = describeRun(finished(outcome), BASE_URL);
      const shape = { outcome, success: t.run.success, error: t.trace.severity === "error" };
      if (FAILED_OUTCOMES.has(outcome)) expect(shape).toEqual({ outcome, success: false, error: true });
      else expect(shape).toEqual({ outcome, success: !["uncertain", "interrupted"].includes(outcome), error: false });
    }
  });

  it("masks the run's whole value set, not only the changed fields: an unchanged value and a failed GET's text", () => {
    // The run read these (desired row, live profile) and changed none of them.
    const known = ["Morgan Unchanged", "+1 206 555 0142", "77 Quiet Street"];
    const error = new SyncError("PartnerCenterError", "Partner Center answered 400 (code 1: Morgan Unchanged at 77 Quiet Street, +1 206 555 0142).", { statusCode: 400, serviceCode: "1" });
    const t = describeRun(finished("failed", { error, personalValues: known }), BASE_URL);
    const everything = JSON.stringify(t);
    for (const value of known) expect(everything).not.toContain(value);
    expect(t.exception!.message).toContain("M*** at 7***, +***");
  });

  it("no dimension of any record holds a personal value", () => {
    const run = finished("corrected", { calls: [call("GET", "get-1"), call("PUT", "put-1")], changes: CHANGES, putMade: true });
    const t = describeRun(run, BASE_URL);
    const everything = JSON.stringify(t);
    expect(personalValues(run)).toEqual(expect.arrayContaining(["avery.former@contoso.example", "DE123456789", "Avery", "Example"]));
    for (const value of personalValues(run)) expect(everything).not.toContain(value);
    expect(personalValues(run)).not.toContain("PO-1");
  });
});

describe("describeRun of a customer billing profile", () => {
  const CUSTOMER = "c5757d70-06f3-4f23-8367-5a9e55019f94";
  const path = `/v1/customers/${CUSTOMER}/profiles/billing`;
  const customerCall = (method: "GET" | "PUT", requestId: string): CallRecord =>
    call(method, requestId, { path, operation: `${method} /v1/customers/{customer-tenant-id}/profiles/billing` });
  const changes = [
    { field: "Email", from: "old.billing@fabrikam.example", to: "ap@fabrikam.example" },
    { field: "FirstName", from: "Avery", to: "Robin" },
  ];

  function customerRun(): FinishedRun {
    const run = finished("corrected", { calls: [customerCall("GET", "get-1"), customerCall("PUT", "put-1")], changes: changes as typeof CHANGES, putMade: true });
    run.result.resource = { kind: "customer-billing-profile", customerTenantId: CUSTOMER };
    run.record.resourceKind = "customer-billing-profile";
    run.record.resourceId = CUSTOMER;
    run.record.profileBefore = { firstName: "Avery", lastName: "Example", email: "old.billing@fabrikam.example", defaultAddress: { addressLine1: "1 Main St", phoneNumber: "4255550100" } };
    return run;
  }

  it("every record carries the kind and the customer's tenant id (an id, not personal)", () => {
    const t = describeRun(customerRun(), BASE_URL);
    for (const dims of [t.run.dimensions, t.trace.dimensions, ...t.events.map((e) => e.dimensions), ...t.dependencies.map((d) => d.dimensions)]) {
      expect(dims).toMatchObject({ resourceKind: "customer-billing-profile", customerTenantId: CUSTOMER });
    }
  });

  it("dependencies are named by operation, not one name per customer; the URL is the real one", () => {
    const t = describeRun(customerRun(), BASE_URL);
    expect(t.dependencies.map((d) => [d.name, d.url])).toEqual([
      ["GET /v1/customers/{customer-tenant-id}/profiles/billing", `${BASE_URL}${path}`],
      ["PUT /v1/customers/{customer-tenant-id}/profiles/billing", `${BASE_URL}${path}`],
    ]);
  });

  it("the customer's personal values, changed or only read, appear nowhere", () => {
    const run = customerRun();
    const values = personalValues(run);
    expect(values).toEqual(expect.arrayContaining(["ap@fabrikam.example", "Robin", "Example", "1 Main St", "4255550100"]));
    const everything = JSON.stringify(describeRun(run, BASE_URL));
    for (const value of values) expect(everything).not.toContain(value);
  });
});
