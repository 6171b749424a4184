import type { Outcome } from "../../shared/model/runResult";
import type { Fault, FaultRule } from "../../simulator/server";

/**
 * The fault matrix, as data: faultMatrix.test.ts runs every case against the simulator and
 * Azurite through the real CLI, and the table of docs/reliability.md is rendered from it
 * (renderFaultTable; a test keeps the two equal).
 *
 * Every case starts from the same drift (the desired PurchaseOrderNumber differs from the
 * live one), so a healthy run is 1 GET and 1 PUT.
 */
export const DESIRED = { PurchaseOrderNumber: "PO-MATRIX-1" };

export type Repeat = "once" | "every attempt";
export type StorageFault = "before the run" | "between GET and PUT" | "at the history write";

export interface Expected {
  /** Undefined: no run started (the CLI stops at the first storage read). */
  outcome?: Outcome;
  errorCode?: string;
  gets: number;
  puts: number;
  /** Distinct MS-RequestIds of GETs and PUTs: a retry keeps its request's id. */
  requestIds: [number, number];
  /** The live profile holds the desired value afterwards (a PUT landed). */
  applied: boolean;
  /** The history row's PutMade, when a row is expected. */
  putMade?: boolean;
  /** Where the run's record is: a history row, or (storage down) the error line on stderr. */
  record: "history" | "stderr";
  /** Storage went down after the run wrote its row ahead of the PUT: that row (PutPending, the profile before) remains. */
  pendingRow?: boolean;
  exitCode: number;
  /** Retry waits the engine decided, when they are part of the point (Retry-After). */
  waits?: number[];
  /** What the next run, faults gone, ends as (the next run finds out what happened). */
  next: Outcome;
}

export interface FaultCase {
  fault: string;
  at: "GET" | "PUT" | StorageFault;
  repeat: Repeat;
  rules: FaultRule[];
  storage?: StorageFault;
  staleEtagAnswer?: 412 | 409 | 2055;
  expected: Expected;
}

const ALWAYS = 1000;
const MALFORMED = '{\r\n    "purchaseOrderNumber": "9888",\r\n    "billingDay":5;\r\n    "attributes": { "etag": "\\"1\\"" }\r\n}';

interface Kind {
  fault: string;
  make: Fault;
  errorCode: string;
  waits?: (repeat: Repeat) => number[];
}

/** Errors that carry no answer: a PUT that ends with one may have landed (`uncertain`). */
const NO_ANSWER = new Set(["Timeout", "ServiceUnavailable", "NetworkError"]);

/** Retried (same MS-RequestId) within the budget: 4 attempts at most. */
const RETRYABLE: Kind[] = [
  { fault: "429 with Retry-After: 1", make: { kind: "throttle", retryAfterSeconds: 1 }, errorCode: "Throttled", waits: (r) => (r === "once" ? [1000] : [1000, 1000, 1000]) },
  { fault: "429 without Retry-After", make: { kind: "throttle" }, errorCode: "Throttled" },
  { fault: "408", make: { kind: "status", status: 408 }, errorCode: "Timeout" },
  { fault: "500", make: { kind: "status", status: 500 }, errorCode: "ServiceUnavailable" },
  { fault: "502", make: { kind: "status", status: 502 }, errorCode: "ServiceUnavailable" },
  { fault: "503", make: { kind: "status", status: 503 }, errorCode: "ServiceUnavailable" },
  { fault: "504", make: { kind: "status", status: 504 }, errorCode: "ServiceUnavailable" },
  { fault: "HTML error page (502)", make: { kind: "html", status: 502 }, errorCode: "ServiceUnavailable" },
  { fault: "timeout (no answer within the client timeout)", make: { kind: "timeout" }, errorCode: "Timeout" },
  { fault: "connection reset", make: { kind: "reset" }, errorCode: "NetworkError" },
  { fault: "truncated body (connection dropped mid-body)", make: { kind: "truncated" }, errorCode: "NetworkError" },
];

/** Not retried: one attempt, then the run ends. */
const TERMINAL: Kind[] = [
  { fault: "400", make: { kind: "status", status: 400 }, errorCode: "PartnerCenterError" },
  { fault: "401", make: { kind: "status", status: 401 }, errorCode: "Unauthorized" },
  { fault: "403", make: { kind: "status", status: 403 }, errorCode: "Forbidden" },
  { fault: "404", make: { kind: "status", status: 404 }, errorCode: "NotFound" },
  { fault: "429 with Retry-After: 300 (past the 120 s budget)", make: { kind: "throttle", retryAfterSeconds: 300 }, errorCode: "Throttled" },
];

/** A 2xx whose body does not parse. At the PUT the update landed first (a 2xx means the service took it). */
const UNREADABLE: Kind[] = [
  { fault: "malformed JSON (2xx)", make: { kind: "malformed", body: MALFORMED }, errorCode: "ResponseParseError" },
  { fault: "truncated body (complete framing, JSON cut)", make: { kind: "truncated", framing: "complete" }, errorCode: "ResponseParseError" },
  { fault: "HTML page (2xx)", make: { kind: "html", status: 200 }, errorCode: "ResponseParseError" },
];

/** An answer lost after the PUT landed: the retried PUT finds the ETag stale, the re-read finds the profile in sync. */
const LOST_ANSWER: Kind[] = [
  { fault: "connection reset after the PUT landed", make: { kind: "reset" }, errorCode: "" },
  { fault: "timeout after the PUT landed", make: { kind: "timeout" }, errorCode: "" },
  { fault: "504 after the PUT landed", make: { kind: "status", status: 504 }, errorCode: "" },
  { fault: "truncated body (dropped) after the PUT landed", make: { kind: "truncated" }, errorCode: "" },
];

const STALE: { fault: string; answer: 412 | 409 | 2055; atGet: Fault }[] = [
  { fault: "stale ETag: 412", answer: 412, atGet: { kind: "status", status: 412 } },
  { fault: "stale ETag: 409", answer: 409, atGet: { kind: "status", status: 409 } },
  { fault: "stale ETag: 400 code 2055", answer: 2055, atGet: { kind: "status", status: 400, body: JSON.stringify({ code: 2055, description: "Etag is no longer valid" }) } },
];

function rule(method: "GET" | "PUT", fault: Fault, repeat: Repeat, afterApply = false): FaultRule {
  return { method, fault, times: repeat === "once" ? 1 : ALWAYS, ...(afterApply ? { afterApply } : {}) };
}

function build(): FaultCase[] {
  const cases: FaultCase[] = [];
  for (const k of RETRYABLE) {
    for (const repeat of ["once", "every attempt"] as const) {
      const once = repeat === "once";
      const waits = k.waits?.(repeat);
      cases.push({
        fault: k.fault, at: "GET", repeat, rules: [rule("GET", k.make, repeat)],
        expected: once
          ? { outcome: "corrected", gets: 2, puts: 1, requestIds: [1, 1], applied: true, putMade: true, record: "history", exitCode: 0, waits, next: "in-sync" }
          : { outcome: "failed", errorCode: k.errorCode, gets: 4, puts: 0, requestIds: [1, 0], applied: false, putMade: false, record: "history", exitCode: 1, waits, next: "corrected" },
      });
      cases.push({
        fault: k.fault, at: "PUT", repeat, rules: [rule("PUT", k.make, repeat)],
        expected: once
          ? { outcome: "corrected", gets: 1, puts: 2, requestIds: [1, 1], applied: true, putMade: true, record: "history", exitCode: 0, waits, next: "in-sync" }
          : // No answer to any attempt: the PUT may have landed; the next run reads the profile and settles it.
            { outcome: NO_ANSWER.has(k.errorCode) ? "uncertain" : "failed", errorCode: k.errorCode, gets: 1, puts: 4, requestIds: [1, 1], applied: false, putMade: false, record: "history", exitCode: 1, waits, next: "corrected" },
      });
    }
  }
  for (const k of TERMINAL) {
    cases.push({
      fault: k.fault, at: "GET", repeat: "every attempt", rules: [rule("GET", k.make, "every attempt")],
      expected: { outcome: "failed", errorCode: k.errorCode, gets: 1, puts: 0, requestIds: [1, 0], applied: false, putMade: false, record: "history", exitCode: 1, next: "corrected" },
    });
    cases.push({
      fault: k.fault, at: "PUT", repeat: "every attempt", rules: [rule("PUT", k.make, "every attempt")],
      expected: { outcome: "failed", errorCode: k.errorCode, gets: 1, puts: 1, requestIds: [1, 1], applied: false, putMade: false, record: "history", exitCode: 1, next: "corrected" },
    });
  }
  for (const k of UNREADABLE) {
    cases.push({
      fault: k.fault, at: "GET", repeat: "every attempt", rules: [rule("GET", k.make, "every attempt")],
      expected: { outcome: "failed", errorCode: k.errorCode, gets: 1, puts: 0, requestIds: [1, 0], applied: false, putMade: false, record: "history", exitCode: 1, next: "corrected" },
    });
    cases.push({
      fault: k.fault, at: "PUT", repeat: "every attempt", rules: [rule("PUT", k.make, "every attempt", true)],
      expected: { outcome: "failed", errorCode: k.errorCode, gets: 1, puts: 1, requestIds: [1, 1], applied: true, putMade: true, record: "history", exitCode: 1, next: "in-sync" },
    });
  }
  for (const k of LOST_ANSWER) {
    cases.push({
      fault: k.fault, at: "PUT", repeat: "once", rules: [rule("PUT", k.make, "once", true)],
      expected: { outcome: "corrected", gets: 2, puts: 2, requestIds: [2, 1], applied: true, putMade: true, record: "history", exitCode: 0, next: "in-sync" },
    });
  }
  for (const s of STALE) {
    cases.push({
      fault: s.fault, at: "GET", repeat: "every attempt", rules: [rule("GET", s.atGet, "every attempt")],
      expected: { outcome: "failed", errorCode: "PartnerCenterError", gets: 1, puts: 0, requestIds: [1, 0], applied: false, putMade: false, record: "history", exitCode: 1, next: "corrected" },
    });
    cases.push({
      fault: s.fault, at: "PUT", repeat: "once", staleEtagAnswer: s.answer, rules: [rule("PUT", { kind: "stale" }, "once")],
      expected: { outcome: "corrected", gets: 2, puts: 2, requestIds: [2, 2], applied: true, putMade: true, record: "history", exitCode: 0, next: "in-sync" },
    });
    cases.push({
      fault: s.fault, at: "PUT", repeat: "every attempt", staleEtagAnswer: s.answer, rules: [rule("PUT", { kind: "stale" }, "every attempt")],
      expected: { outcome: "conflict", errorCode: "StaleEtag", gets: 3, puts: 3, requestIds: [3, 3], applied: false, putMade: false, record: "history", exitCode: 1, next: "corrected" },
    });
  }
  const storage = (at: StorageFault, expected: Expected): FaultCase => ({ fault: "Table Storage down", at, repeat: "every attempt", rules: [], storage: at, expected });
  cases.push(storage("before the run", { errorCode: "StorageError", gets: 0, puts: 0, requestIds: [0, 0], applied: false, record: "stderr", exitCode: 1, next: "corrected" }));
  // Drift makes the run read its recent history before the PUT (fights, not-converged
  // fields): with storage gone that read fails, so no PUT goes out that could not be
  // recorded. The lease could not be released either: it blocks the target until it expires (5 min).
  cases.push(storage("between GET and PUT", { outcome: "failed", errorCode: "StorageError", gets: 1, puts: 0, requestIds: [1, 0], applied: false, record: "stderr", exitCode: 1, next: "in-progress" }));
  cases.push(storage("at the history write", { outcome: "corrected", gets: 1, puts: 1, requestIds: [1, 1], applied: true, record: "stderr", pendingRow: true, exitCode: 1, next: "in-progress" }));
  return cases;
}

export const FAULT_MATRIX: readonly FaultCase[] = build();

function cell(e: Expected): string {
  const outcome = e.outcome === undefined ? `no run (${e.errorCode})` : `${e.outcome}${e.errorCode ? ` (${e.errorCode})` : ""}`;
  return `${outcome}; ${e.gets} GET, ${e.puts} PUT${e.applied ? ", landed" : ""}`;
}

function recordCell(e: Expected): string {
  if (e.record === "history") return "history row";
  return `${e.pendingRow ? "the row written before the PUT (profile kept), " : ""}stderr line, exit ${e.exitCode}`;
}

/** The table of docs/reliability.md: one line per fault and place, the once / every-attempt results side by side. */
export function renderFaultTable(cases: readonly FaultCase[] = FAULT_MATRIX): string {
  const lines = ["| fault | at | once | every attempt | record | next run |", "|---|---|---|---|---|---|"];
  const seen = new Set<string>();
  for (const c of cases) {
    const key = `${c.fault}|${c.at}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const pair = cases.filter((o) => `${o.fault}|${o.at}` === key);
    const once = pair.find((o) => o.repeat === "once");
    const always = pair.find((o) => o.repeat === "every attempt");
    const records = [...new Set(pair.map((o) => recordCell(o.expected)))].join(" / ");
    const next = [...new Set(pair.map((o) => o.expected.next))].join(" / ");
    lines.push(`| ${c.fault} | ${c.at} | ${once ? cell(once.expected) : "-"} | ${always ? cell(always.expected) : "-"} | ${records} | ${next} |`);
  }
  return lines.join("\n");
}
