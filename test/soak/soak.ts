import { TableClient } from "@azure/data-tables";
import { StaticTokenCredential } from "../../shared/auth/staticCredential";
import { entityFromDocument } from "../../shared/model/desired";
import { withoutManaged } from "../../shared/model/diff";
import { Engine } from "../../shared/engine/engine";
import { MANAGED_FIELDS } from "../../shared/model/fields";
import { sleep } from "../../shared/core/http";
import { type JsonObject, toJsonText } from "../../shared/core/json";
import type { Logger } from "../../shared/core/logger";
import type { RunResult } from "../../shared/model/runResult";
import { loadSettings } from "../../shared/config/settings";
import { TABLES } from "../../shared/stores/tables";
import { AZURITE_ACCOUNT, AZURITE_KEY } from "../../simulator/azurite";
import { PartnerCenterSimulator, type Fault, type PutAudit } from "../../simulator/server";
import { startTcpProxy } from "../support/tcpProxy";

/**
 * The soak: thousands of runs in one process against the Partner Center simulator (real
 * HTTP) and Azurite (real Table Storage, behind a TCP relay), with random faults on most
 * kinds the fault matrix covers, concurrent runs of the same targets (lease contention), a
 * concurrent writer editing the live profiles, desired rows changing between batches, and
 * now and then Table Storage taken down before a run or between its GET and PUT.
 *
 * It checks, and reports: no unhandled rejection; every run has its record (a history row,
 * or, when its history write was deliberately failed, its error log line); no PUT changed a
 * field its target does not own, compared with the body the simulator served under the
 * PUT's ETag; every profile ends in its desired state after a final clean sync; RSS and heap
 * at start and end. Used by `npm run soak` (full size) and a small jest test.
 */
export interface SoakOptions {
  runs: number;
  /** Table Storage (Azurite) to use: its table endpoint (http://127.0.0.1:port/devstoreaccount1). */
  tableEndpoint: string;
  seed?: number;
  targets?: number;
  /** Runs in flight at once. */
  concurrency?: number;
  /** Progress lines (the script prints them). */
  progress?: (line: string) => void;
}

export interface MemorySample {
  runs: number;
  rssMb: number;
  heapUsedMb: number;
}

export interface SoakReport {
  seed: number;
  runs: number;
  outcomes: Record<string, number>;
  faultsInjected: Record<string, number>;
  faultsTotal: number;
  storageOutages: { beforeRun: number; betweenGetAndPut: number };
  puts: number;
  concurrentWrites: number;
  historyRows: number;
  /** Runs whose history write was deliberately failed (storage taken down); each must have its error line. */
  unrecordedDeliberately: number;
  unrecordedWithErrorLine: number;
  /** Runs with recorded=false that no outage explains. */
  unrecordedUnexplained: number;
  /** Callers that got another caller's dry run (the same run id): counted once in runsInAll. */
  sharedDryRuns: number;
  /** Runs in all, the final syncs and checks included, and how many rows they should have left. */
  runsInAll: number;
  historyRowsExpected: number;
  /** Runs with neither a history row nor an error log line: must be 0. */
  recordsLost: number;
  /** Runs reported recorded whose row is missing: must be 0. */
  recordedButMissing: number;
  /** PUTs that changed a field their target does not own, or were not built from a body the simulator served: must be 0. */
  putsTouchingUnmanaged: number;
  putsWithUnknownBase: number;
  unhandledRejections: number;
  finalOutcomes: string[];
  finalInDesiredState: boolean;
  /** The final dry runs that did not find the profile as desired, with why: empty when finalInDesiredState. */
  finalNotInSync: string[];
  /** Each account's pace at the end (calls a minute): stray 429s must not leave an account crawling. */
  finalCallsPerMinute: Record<string, number>;
  /** How long the final syncs waited for the accounts' pace (see above). */
  finalPaceWaitMs: number;
  memory: { start: MemorySample; end: MemorySample; samples: MemorySample[] };
  durationMs: number;
}

/** A small seeded PRNG (mulberry32): a soak can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A body without the fields a target owns (paths resolved ignoring case); owned parents left empty or null dropped. */
const withoutOwned = (body: JsonObject, owned: ReadonlySet<string>) => withoutManaged(body, { only: owned, dropEmptyParents: true });

function memory(runs: number): MemorySample {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { runs, rssMb: Math.round((m.rss / 1048576) * 10) / 10, heapUsedMb: Math.round((m.heapUsed / 1048576) * 10) / 10 };
}

/** Short leases: a lease left behind by a storage outage blocks its target for this long. */
const LEASE_MS = 1_500;

const PO = ["PO-1", "PO-2", "PO-3", "PO-2026-77", " PO-9 "];
const CITIES = ["Redmond", "Seattle", "Zürich", "東京"];
const EMAILS = ["billing@contoso.example", "AP@Contoso.Example", "finance@fabrikam.example"];

function randomDesired(random: () => number, credentialRef: string): Record<string, unknown> {
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const doc: Record<string, unknown> = { CredentialRef: credentialRef, PurchaseOrderNumber: pick(PO) };
  if (random() < 0.7) doc.PrimaryContact = { Email: pick(EMAILS), ...(random() < 0.5 ? { PhoneNumber: "+1 425 555 0100" } : {}) };
  if (random() < 0.6) doc.Address = { City: pick(CITIES), ...(random() < 0.3 ? { AddressLine2: "" } : {}) };
  if (random() < 0.3) doc.TaxId = `DE${Math.floor(random() * 1e9)}`;
  return doc;
}

function randomFault(random: () => number): { fault: Fault; method: "GET" | "PUT"; times: number; afterApply?: boolean } {
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const method = random() < 0.5 ? "GET" : "PUT";
  const faults: [Fault, number][] = [
    [{ kind: "status", status: pick([408, 500, 502, 503, 504]) }, 1 + Math.floor(random() * 5)],
    [{ kind: "throttle", retryAfterSeconds: pick([undefined, 0, 1]) }, 1 + Math.floor(random() * 4)],
    [{ kind: "status", status: pick([400, 401, 403, 404]) }, 1],
    [{ kind: "reset" }, 1 + Math.floor(random() * 2)],
    [{ kind: "timeout" }, 1],
    [{ kind: "truncated", framing: pick(["dropped", "complete"] as const) }, 1],
    [{ kind: "malformed", body: pick(['{"purchaseOrderNumber":"x";}', "", "<html></html>", '{"attributes":{}}', "[]"]) }, 1],
    [{ kind: "html", status: pick([200, 502]) }, 1],
    [{ kind: "stale" }, 1 + Math.floor(random() * 4)],
    [{ kind: "concurrentWrite", set: { purchaseOrderNumber: "RACE", billingDay: 9 } }, 1],
  ];
  const [fault, times] = pick(faults);
  const afterApply = method === "PUT" && random() < 0.25 && ["reset", "timeout", "status", "truncated", "malformed"].includes(fault.kind);
  return { fault, method, times, ...(afterApply ? { afterApply } : {}) };
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = prng(seed);
  const targetCount = options.targets ?? 6;
  const concurrency = options.concurrency ?? 6;
  const progress = options.progress ?? (() => {});
  const started = Date.now();

  let unhandled = 0;
  const onUnhandled = () => void unhandled++;
  process.on("unhandledRejection", onUnhandled);

  const proxy = await startTcpProxy(Number(new URL(options.tableEndpoint).port));
  const tableEndpoint = `http://127.0.0.1:${proxy.port}/${AZURITE_ACCOUNT}`;
  const connectionString = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=${tableEndpoint};`;

  // One simulated partner account per target, so that what a target owns is well defined.
  const targets = Array.from({ length: targetCount }, (_, i) => `soak-${i}`);
  const tokens = new Map(targets.map((t) => [t, `soak-token-${t}-${seed}`]));
  const sim = new PartnerCenterSimulator({ token: `soak-default-${seed}`, recordRequests: false });
  for (const t of targets) sim.addAccount(t, tokens.get(t)!);
  const owned = new Map<string, Set<string>>();
  let puts = 0;
  let putsTouchingUnmanaged = 0;
  let putsWithUnknownBase = 0;
  const onPut = (audit: PutAudit) => {
    puts++;
    if (!audit.basedOn) {
      putsWithUnknownBase++;
      return;
    }
    const fields = owned.get(audit.account) ?? new Set<string>();
    // Compared as JSON text written losslessly: the PUT's numbers are read digit for digit.
    if (toJsonText(withoutOwned(audit.put, fields)) !== toJsonText(withoutOwned(audit.basedOn, fields))) {
      putsTouchingUnmanaged++;
      if (process.env.SOAK_DEBUG) progress(`UNMANAGED ${audit.account} ${[...fields].join(",")}\n${toJsonText(withoutOwned(audit.put, fields))}\n${toJsonText(withoutOwned(audit.basedOn, fields))}`);
    }
  };
  sim.configure({ onPut });
  const url = await sim.start();

  const env = { PARTNER_CENTER_BASE_URL: url, PARTNER_CENTER_AUTH: "static", PARTNER_CENTER_ACCESS_TOKEN: "unused", BILLING_SYNC_STORAGE: connectionString };
  // Error lines that say a run could not be recorded, by run id; other lines are only counted.
  const errorLines = new Set<string>();
  let logLines = 0;
  const capture = (message: string, properties?: Record<string, unknown>) => {
    logLines++;
    if (/could not be recorded in history/.test(message) && typeof properties?.runId === "string") errorLines.add(properties.runId);
  };
  const log: Logger = { info: () => void logLines++, warn: () => void logLines++, error: capture };
  const engine = new Engine(loadSettings(env), {
    log,
    credentialFor: (account) => new StaticTokenCredential(tokens.get(account.credentialRef ?? "") ?? "none"),
    retry: { policy: { retryDelayInMs: 2, maxRetryDelayInMs: 8 }, sleep: (ms, signal) => sleep(Math.min(ms, 3), signal), random },
    timeoutInMs: 100,
    storageRetry: { maxRetries: 1, retryDelayInMs: 5, maxRetryDelayInMs: 10 },
    leaseDurationInMs: LEASE_MS,
    runTimeoutInMs: LEASE_MS - 300,
  });
  // Accounts carry the target's name (CredentialRef = target): secret names allow letters, digits, dashes.
  const setDesired = async (target: string) => {
    const entity = entityFromDocument(target, randomDesired(random, target));
    await engine.desired.upsert(target, entity);
    owned.set(target, new Set(Object.keys(entity).filter((k) => MANAGED_FIELDS.some((f) => f.name === k))));
  };
  for (const t of targets) await setDesired(t);

  // The concurrent writer: someone editing the profiles by hand, managed and unmanaged fields alike.
  let concurrentWrites = 0;
  let writing = true;
  const writer = (async () => {
    while (writing) {
      const t = targets[Math.floor(random() * targets.length)];
      const r = random();
      if (r < 0.4) sim.write({ purchaseOrderNumber: `HAND-${concurrentWrites}` }, t);
      else if (r < 0.7) sim.write({ billingDay: 1 + (concurrentWrites % 28), notes: `note ${concurrentWrites}` }, t);
      else sim.write({ "address.city": "Hand City", "primaryContact.email": `hand${concurrentWrites}@example.org` }, t);
      concurrentWrites++;
      await sleep(2 + Math.floor(random() * 10));
    }
  })();

  // Only what the checks need, so the soak's own bookkeeping does not show as engine memory.
  type Kept = Pick<RunResult, "runId" | "recorded" | "outcome" | "target">;
  const keep = (r: RunResult): Kept => ({ runId: r.runId, recorded: r.recorded, outcome: r.outcome, target: r.target });
  const results: Kept[] = [];
  const deliberate = new Set<string>();
  const outages = { beforeRun: 0, betweenGetAndPut: 0 };
  const samples: MemorySample[] = [];
  const start = memory(0);
  let done = 0;

  let iteration = 0;
  while (done < options.runs) {
    iteration++;
    if (iteration % 15 === 0) {
      // A storage outage around one run, alone (an outage hits every run in flight).
      const target = targets[Math.floor(random() * targets.length)];
      const before = iteration % 30 === 0;
      if (before) {
        outages.beforeRun++;
        await proxy.down();
      } else {
        outages.betweenGetAndPut++;
        sim.configure({ beforeAnswer: ({ method, account }) => (method === "GET" && account === target ? proxy.down() : undefined) });
      }
      const result = await engine.syncTarget({ target, trigger: "timer" });
      sim.configure({ beforeAnswer: undefined });
      await proxy.up();
      results.push(keep(result));
      if (!result.recorded) deliberate.add(result.runId);
      done++;
      continue;
    }
    const batch = Math.min(concurrency, options.runs - done);
    for (let i = 0; i < batch; i++) {
      if (random() < 0.35) {
        const { fault, method, times, afterApply } = randomFault(random);
        sim.inject({ account: targets[Math.floor(random() * targets.length)], method, times, fault, ...(afterApply ? { afterApply } : {}) });
      }
    }
    // Mostly different targets at once, sometimes the same one twice: lease contention.
    const chosen = shuffle(targets, random).slice(0, batch);
    if (batch > 1 && random() < 0.3) chosen[1] = chosen[0];
    const triggers = ["timer", "queue", "http", "cli"] as const;
    const ran = await Promise.all(chosen.map((target) => engine.syncTarget({ target, trigger: triggers[Math.floor(random() * 4)], dryRun: random() < 0.05 })));
    results.push(...ran.map(keep));
    done += batch;
    if (random() < 0.05) await setDesired(targets[Math.floor(random() * targets.length)]);
    if (Math.floor(done / 1000) !== Math.floor((done - batch) / 1000)) {
      samples.push(memory(done));
      progress(`${done} runs, ${puts} PUTs, RSS ${samples[samples.length - 1].rssMb} MB, heap ${samples[samples.length - 1].heapUsedMb} MB`);
    }
  }

  writing = false;
  await writer;
  sim.clearFaults();
  // Leases left by runs whose release failed (storage down) expire on their own.
  await sleep(LEASE_MS + 100);
  // The soak's runs have 1.2 s (production's have minutes): the final sync waits until each
  // account's pace lets a run's calls go at once, so that a recent 429's cut cannot time it out.
  let finalPaceWaitMs = 0;
  const waitForPace = async (calls: number) => {
    const started = Date.now();
    const ahead = () => Math.max(...targets.map((t) => engine.partnerClient({ credentialRef: t }).rate.readyInMs(calls)));
    for (let wait = ahead(); wait > 0 && Date.now() - started < 120_000; wait = ahead()) await sleep(Math.min(wait, 1_000));
    finalPaceWaitMs += Date.now() - started;
  };
  await waitForPace(5);
  const finals: RunResult[] = [];
  for (const target of targets) finals.push(await engine.syncTarget({ target, trigger: "cli" }));
  await waitForPace(2);
  const checks = await Promise.all(targets.map((target) => engine.syncTarget({ target, trigger: "cli", dryRun: true })));
  const finalInDesiredState = checks.every((c) => c.outcome === "in-sync");

  // Every run's record: count the history rows by run id, once, at the end.
  const table = TableClient.fromConnectionString(connectionString, TABLES.history, { allowInsecureConnection: true });
  const rowIds = new Set<string>();
  // In-sync checks share one row per target and UTC day, which counts them (ChecksCount).
  const checksByTarget = new Map<string, number>();
  let checkRowCount = 0;
  for await (const row of table.listEntities<{ RunId: string; ChecksCount?: number }>({ queryOptions: { select: ["PartitionKey", "RunId", "ChecksCount"] } })) {
    if (typeof row.ChecksCount === "number") {
      checksByTarget.set(String(row.partitionKey), (checksByTarget.get(String(row.partitionKey)) ?? 0) + row.ChecksCount);
      checkRowCount += row.ChecksCount;
    } else rowIds.add(row.RunId);
  }
  // Concurrent dry runs of one target share one run (the engine's dry-run sharing): one
  // run id, one history row, however many callers got its result.
  const asked = [...results, ...finals.map(keep), ...checks.map(keep)];
  const all = [...new Map(asked.map((r) => [r.runId, r])).values()];
  const outcomes: Record<string, number> = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  let recordsLost = 0;
  let recordedButMissing = 0;
  let unrecordedWithErrorLine = 0;
  let unrecordedUnexplained = 0;
  const checksRecorded = new Map<string, number>();
  for (const r of all) if (r.outcome === "in-sync" && r.recorded) checksRecorded.set(r.target, (checksRecorded.get(r.target) ?? 0) + 1);
  // A check's record is its count in the check row (a run whose status write failed after it may be counted, not recorded).
  for (const [target, n] of checksRecorded) recordedButMissing += Math.max(0, n - (checksByTarget.get(target) ?? 0));
  for (const r of all) {
    const hasRow = r.outcome === "in-sync" ? (checksByTarget.get(r.target) ?? 0) > 0 : rowIds.has(r.runId);
    if (r.recorded && !hasRow) recordedButMissing++;
    if (!r.recorded) {
      if (errorLines.has(r.runId)) unrecordedWithErrorLine++;
      if (!deliberate.has(r.runId)) unrecordedUnexplained++;
    }
    if (!hasRow && !errorLines.has(r.runId)) recordsLost++;
  }
  const end = memory(options.runs);

  await sim.stop();
  await proxy.close();
  process.off("unhandledRejection", onUnhandled);
  const faultsInjected = { ...sim.faultCounts };
  return {
    seed,
    runs: results.length,
    outcomes,
    faultsInjected,
    faultsTotal: Object.values(faultsInjected).reduce((a, b) => a + b, 0),
    storageOutages: outages,
    puts,
    concurrentWrites,
    historyRows: rowIds.size + checkRowCount,
    runsInAll: all.length,
    sharedDryRuns: asked.length - all.length,
    historyRowsExpected: all.filter((r) => r.recorded).length,
    unrecordedDeliberately: deliberate.size,
    unrecordedWithErrorLine,
    unrecordedUnexplained,
    recordsLost,
    recordedButMissing,
    putsTouchingUnmanaged,
    putsWithUnknownBase,
    unhandledRejections: unhandled,
    finalOutcomes: finals.map((f) => `${f.target}: ${f.outcome}`),
    finalInDesiredState,
    finalPaceWaitMs,
    finalCallsPerMinute: Object.fromEntries(targets.map((t) => [t, Math.round(engine.partnerClient({ credentialRef: t }).rate.callsPerMinute)])),
    finalNotInSync: checks
      .filter((c) => c.outcome !== "in-sync")
      .map((c) => `${c.target}: ${c.outcome}${c.error ? ` (${c.error.code}: ${c.error.message})` : ""}${c.changes.length ? ` changes ${c.changes.map((x) => x.field).join(",")}` : ""}; pace ${JSON.stringify(engine.partnerClient({ credentialRef: c.target }).rate.snapshot())}`),
    memory: { start, end, samples },
    durationMs: Date.now() - started,
  };
}
