import type { TokenCredential } from "@azure/core-auth";
import type { QueueClient } from "@azure/storage-queue";
import { mapWithConcurrency, SyncError } from "../core";
import type { QueueSettings } from "../config";
import { checkTargetName, type Trigger } from "../model";
import { storageFailure } from "./tables";

/** The fan-out queue: one message per target; the Functions host moves failures to -poison. */
export const TARGET_QUEUE = "billing-sync-targets";
export const POISON_QUEUE = `${TARGET_QUEUE}-poison`;

export interface TargetMessage {
  target: string;
  trigger: Trigger;
  enqueuedAt: string;
  /** How many times the run was throttled and its message put back (absent = never). */
  deferrals?: number;
  /** A plan, not a sync (an untargeted dry run over HTTP is queued like a sync). */
  dryRun?: boolean;
  /** The sweep the message is part of (its id, and how many targets it has): departures are judged per sweep. */
  sweep?: { id: string; size: number };
}

/** A message and when it becomes visible to the queue trigger. */
export interface QueuedMessage {
  message: TargetMessage;
  /** Seconds before the trigger sees it (queue visibility timeout); default 0. */
  delayInSeconds?: number;
}

/** Messages sent at once: ten thousand targets are not ten thousand sequential round trips. */
const SEND_CONCURRENCY = 16;

export interface PoisonEntry {
  target: string;
  insertedOn?: string;
  dequeueCount: number;
}

const SWEEP_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A sweep as a message carries it; anything else is no sweep (the run is then judged alone). */
function sweepOf(raw: unknown): { sweep?: { id: string; size: number } } {
  if (typeof raw !== "object" || raw === null) return {};
  const { id, size } = raw as Record<string, unknown>;
  if (typeof id !== "string" || !SWEEP_ID.test(id) || typeof size !== "number" || !Number.isInteger(size) || size < 1) return {};
  return { sweep: { id, size } };
}

/** Queue messages come from storage anyone with access can write to: check them like input. */
export function parseTargetMessage(raw: unknown): TargetMessage {
  let value = raw;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      throw new SyncError("InvalidTargetName", "Queue message is not JSON; expected {\"target\": \"...\"}.");
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SyncError("InvalidTargetName", "Queue message must be a JSON object {\"target\": \"...\"}.");
  }
  const { target, trigger, enqueuedAt, dryRun, deferrals, sweep } = value as Record<string, unknown>;
  return {
    target: checkTargetName(target),
    trigger: trigger === "http" || trigger === "cli" ? trigger : "timer",
    enqueuedAt: typeof enqueuedAt === "string" ? enqueuedAt : "",
    // Only an explicit true makes a plan: anything else syncs, as a timer message always did.
    ...(dryRun === true ? { dryRun: true } : {}),
    ...(typeof deferrals === "number" && Number.isInteger(deferrals) && deferrals > 0 ? { deferrals } : {}),
    ...sweepOf(sweep),
  };
}

/** The Functions queue trigger reads base64 by default (host.json messageEncoding). */
export function encodeMessage(message: TargetMessage): string {
  return Buffer.from(JSON.stringify(message), "utf8").toString("base64");
}

function decodeMessage(text: string): unknown {
  try {
    return JSON.parse(Buffer.from(text, "base64").toString("utf8"));
  } catch {
    return text;
  }
}

export class TargetQueue {
  private credential?: TokenCredential;

  constructor(private readonly settings: QueueSettings) {}

  private client(name: string): QueueClient {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { QueueServiceClient } = require("@azure/storage-queue") as typeof import("@azure/storage-queue");
    if (this.settings.kind === "connectionString") return QueueServiceClient.fromConnectionString(this.settings.connectionString).getQueueClient(name);
    const { DefaultAzureCredential } = require("@azure/identity") as typeof import("@azure/identity");
    /* eslint-enable @typescript-eslint/no-require-imports */
    this.credential ??= new DefaultAzureCredential({ managedIdentityClientId: this.settings.clientId });
    return new QueueServiceClient(this.settings.queueServiceUri, this.credential).getQueueClient(name);
  }

  async enqueue(messages: readonly (TargetMessage | QueuedMessage)[]): Promise<void> {
    const queue = this.client(TARGET_QUEUE);
    try {
      await queue.createIfNotExists();
      await mapWithConcurrency(messages, SEND_CONCURRENCY, async (item) => {
        const { message, delayInSeconds } = "message" in item ? item : { message: item, delayInSeconds: undefined };
        // The queue holds a message for at most 7 days; a delay is far below that.
        await queue.sendMessage(encodeMessage(message), delayInSeconds ? { visibilityTimeout: Math.ceil(delayInSeconds) } : undefined);
      });
    } catch (err) {
      throw new SyncError("StorageError", `Could not queue targets in ${TARGET_QUEUE}: ${storageFailure(err)}.`, { retryable: true });
    }
  }

  /** What the host gave up on (peeked, not removed: an operator decides what to do with them). */
  async peekPoison(): Promise<PoisonEntry[]> {
    const queue = this.client(POISON_QUEUE);
    try {
      if (!(await queue.exists())) return [];
      const peeked = await queue.peekMessages({ numberOfMessages: 32 });
      return peeked.peekedMessageItems.map((m) => {
        const decoded = decodeMessage(m.messageText);
        const target = typeof decoded === "object" && decoded !== null ? String((decoded as { target?: unknown }).target ?? "?") : "?";
        return { target, insertedOn: m.insertedOn?.toISOString(), dequeueCount: m.dequeueCount };
      });
    } catch (err) {
      throw new SyncError("StorageError", `Could not read ${POISON_QUEUE}: ${storageFailure(err)}.`, { retryable: true });
    }
  }
}

/**
 * Delays that spread a fan-out evenly over the time its calls need at the account's
 * budget, but never past `maxSpreadInMs` (most of the time until the timer fires again).
 * A fan-out within a minute of calls is spread too: visible at once, its messages would
 * let every instance spend the whole budget at the same time. Whole seconds (the queue's
 * visibility timeout): a handful of targets still goes at once.
 */
export function spreadDelaysInSeconds(count: number, callsPerMinute: number, maxSpreadInMs: number): number[] {
  const spreadInMs = Math.min((count / callsPerMinute) * 60_000, Math.max(0, maxSpreadInMs));
  return Array.from({ length: count }, (_, i) => Math.floor((i * spreadInMs) / count / 1000));
}
