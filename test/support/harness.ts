import { randomBytes } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import { entityFromDocument } from "../../shared/model/desired";
import { Engine, type EngineOptions } from "../../shared/engine/engine";
import { sleep } from "../../shared/core/http";
import { streamLogger } from "../../shared/core/logger";
import { loadSettings } from "../../shared/config/settings";
import { ResponseCache } from "../../shared/partnerCenter/responseCache";
import { TABLES } from "../../shared/stores/tables";
import { startAzurite, type LocalStorage } from "../../simulator/azurite";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { PartnerCenterSimulator, type SimulatorOptions } from "../../simulator/server";

/**
 * Real parts for integration tests: Azurite (Table Storage, in memory) and the Partner
 * Center simulator over real HTTP. The only thing not real is time: retry waits are
 * recorded at their full value but slept for at most 20 ms, so a test of Retry-After: 30
 * runs in milliseconds and still proves the 30 s were asked for.
 */
export interface Harness {
  storage: LocalStorage;
  sim: PartnerCenterSimulator;
  token: string;
  /** The settings environment an operator would set for this machine. */
  env: Record<string, string>;
  /** Every line the engine logged, every byte the CLI printed: checked for leaks. */
  output: string[];
  /** Retry waits the engine decided, in ms. */
  waits: number[];
  engine(options?: EngineOptions): Engine;
  setDesired(target: string, doc: unknown): Promise<void>;
  setDesiredEntity(target: string, entity: Record<string, unknown>): Promise<void>;
  /** Every row of a table, as stored. */
  rawRows(table: string): Promise<Record<string, unknown>[]>;
  /** Between tests: the default profile again, no queued faults, no recorded requests. */
  resetSimulator(): void;
  /**
   * The exported Functions handlers read their settings from process.env, as in the host:
   * puts this harness's there; stop() puts the previous environment back.
   */
  useProcessEnv(extra?: Record<string, string>): void;
  stop(): Promise<void>;
}

/**
 * Waits recorded at full value and slept for at most 20 ms. The clock the engine reads
 * (the retry budget, the Partner Center call pace) moves on by the whole wait, as if it
 * had been slept: a Retry-After: 30 is then over for every later call too.
 */
export function fastRetry(waits: number[]): EngineOptions["retry"] {
  let skipped = 0;
  return {
    policy: { retryDelayInMs: 10, maxRetryDelayInMs: 40 },
    now: () => Date.now() + skipped,
    sleep: async (ms, signal) => {
      waits.push(ms);
      await sleep(Math.min(ms, 20), signal);
      skipped += Math.max(0, ms - 20);
    },
  };
}

export async function startHarness(simulator: Partial<SimulatorOptions> = {}, options: { queue?: boolean } = {}): Promise<Harness> {
  const storage = await startAzurite({ queue: options.queue });
  const token = `tok-${randomBytes(18).toString("base64url")}`;
  const sim = new PartnerCenterSimulator({ token, ...simulator });
  const url = await sim.start();
  const env = {
    PARTNER_CENTER_BASE_URL: url,
    PARTNER_CENTER_AUTH: "static",
    PARTNER_CENTER_ACCESS_TOKEN: token,
    BILLING_SYNC_STORAGE: storage.connectionString,
  };
  const output: string[] = [];
  const waits: number[] = [];
  const admin = new Engine(loadSettings(env));
  let savedEnv: NodeJS.ProcessEnv | undefined;
  return {
    storage,
    sim,
    token,
    env,
    output,
    waits,
    // Each engine keeps its own country rules and address verdicts, so that a test's
    // simulator answers are never an earlier test's, kept for a day.
    engine: (options = {}) =>
      new Engine(loadSettings(env), {
        log: streamLogger((l) => output.push(l), { verbose: true }),
        retry: fastRetry(waits),
        responseCache: new ResponseCache(),
        ...options,
      }),
    setDesired: async (target, doc) => void (await admin.desired.upsert(target, entityFromDocument(target, doc))),
    setDesiredEntity: async (target, entity) => void (await admin.desired.upsert(target, entity)),
    rawRows: async (table) => {
      const client = TableClient.fromConnectionString(storage.connectionString, table, { allowInsecureConnection: true });
      const rows: Record<string, unknown>[] = [];
      try {
        for await (const row of client.listEntities()) rows.push(row);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
      return rows;
    },
    resetSimulator: () => {
      sim.setProfile(defaultLiveProfile());
      sim.clearFaults();
      sim.resetRequests();
    },
    useProcessEnv: (extra = {}) => {
      savedEnv ??= { ...process.env };
      Object.assign(process.env, env, extra);
    },
    stop: async () => {
      if (savedEnv) process.env = savedEnv;
      await sim.stop();
      await storage.stop();
    },
  };
}

export async function historyRows(h: Harness, target?: string): Promise<Record<string, unknown>[]> {
  const rows = await h.rawRows(TABLES.history);
  return target === undefined ? rows : rows.filter((r) => r.partitionKey === target);
}

export function randomTokenLikeString(): string {
  return randomBytes(12).toString("hex");
}

/** The one history row of a run (asserting there is exactly one), as stored. */
export async function historyRowOf(h: Harness, run: { target: string; runId: string }): Promise<Record<string, unknown>> {
  const rows = (await historyRows(h, run.target)).filter((r) => r.RunId === run.runId);
  if (rows.length !== 1) throw new Error(`expected one history row for run ${run.runId} of ${run.target}, found ${rows.length}`);
  return rows[0];
}
