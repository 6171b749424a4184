import { randomBytes } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import { entityFromDocument } from "../../shared/desired";
import { Engine, type EngineOptions } from "../../shared/engine";
import { sleep } from "../../shared/http";
import { streamLogger } from "../../shared/logger";
import { loadSettings } from "../../shared/settings";
import { TABLES } from "../../shared/stores/tables";
import { startAzurite, type LocalStorage } from "../../simulator/azurite";
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
  stop(): Promise<void>;
}

export function fastRetry(waits: number[]): EngineOptions["retry"] {
  return {
    policy: { retryDelayInMs: 10, maxRetryDelayInMs: 40 },
    sleep: (ms, signal) => {
      waits.push(ms);
      return sleep(Math.min(ms, 20), signal);
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
  return {
    storage,
    sim,
    token,
    env,
    output,
    waits,
    engine: (options = {}) =>
      new Engine(loadSettings(env), { log: streamLogger((l) => output.push(l), { verbose: true }), retry: fastRetry(waits), ...options }),
    setDesired: async (target, doc) => admin.desired.upsert(target, entityFromDocument(target, doc)),
    setDesiredEntity: async (target, entity) => admin.desired.upsert(target, entity),
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
    stop: async () => {
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
