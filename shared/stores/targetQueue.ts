import type { TokenCredential } from "@azure/core-auth";
import type { QueueClient } from "@azure/storage-queue";
import { mapWithConcurrency, SyncError } from "../core";
import type { QueueSettings } from "../config";
import { checkTargetName, type Trigger } from "../model";
import { storageFailure } from "./tables";

/** The fan-out queue: one message per target; the Functions host moves failures to -poison. */
export const TARGET_QUEUE = "billing-sync-targets";
export const POISON_QUEUE = `${TARGET_QUEUE}-poison`;
/** A sweep id as a queue message may carry it (a valid PartitionKey of BillingProfileSweeps). */
const SWEEP_ID_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

export interface TargetMessage {
  target: string;
  trigger: Trigger;
  enqueuedAt: string;
  /** How many times the run was throttled and its message put back (absent = never). */
  deferrals?: number;
  /** A plan, not a sync (an untargeted dry run over HTTP is queued like a sync). */
  dryRun?: boolean;
  /** The sweep (timer tick or untargeted sync) that queued it: a uuid, kept through deferrals and re-queues. */
  sweepId?: string;
  /** When the message was first put back (throttled): deferrals end by time, not by count. */
  firstDeferredAt?: string;
  /** How many times its run met another run's lease and the message was put back for when it ends. */
  requeues?: number;
  /** How many targets the message's sweep has: departed customers are judged per sweep (departures.ts). */
  sweepSize?: number;
}

/** A message and when it becomes visible to the queue trigger. */
export interface QueuedMessage {
  message: TargetMessage;
  /** Seconds before the trigger sees it (queue visibility timeout); default 0. */
  delayInSeconds?: number;
}

/** The most messages one peek or receive returns. */
const PAGE = 32;
/**
 * How long a paged read of the poison queue hides each page: while it reads the rest (it
 * makes them visible again when done; should it stop half-way, they come back by themselves).
 */
const POISON_READ_INVISIBLE_SECONDS = 30;

/** Messages sent at once: ten thousand targets are not ten thousand sequential round trips. */
const SEND_CONCURRENCY = 16;

export interface PoisonEntry {
  target: string;
  insertedOn?: string;
  dequeueCount: number;
}


/** A sweep as a message carries it; anything else is no sweep (the run is then judged alone). */
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
  const { target, trigger, enqueuedAt, dryRun, deferrals, sweepId, firstDeferredAt, requeues, sweepSize } = value as Record<string, unknown>;
  if (sweepId !== undefined && (typeof sweepId !== "string" || !SWEEP_ID_SHAPE.test(sweepId))) {
    throw new SyncError("InvalidTargetName", "Queue message has a sweepId that is not 1-100 letters, digits, '.', '_', ':' or '-'.");
  }
  return {
    target: checkTargetName(target),
    trigger: trigger === "http" || trigger === "cli" ? trigger : "timer",
    enqueuedAt: typeof enqueuedAt === "string" ? enqueuedAt : "",
    // Only an explicit true makes a plan: anything else syncs, as a timer message always did.
    ...(dryRun === true ? { dryRun: true } : {}),
    ...(typeof deferrals === "number" && Number.isInteger(deferrals) && deferrals > 0 ? { deferrals } : {}),
    ...(typeof sweepId === "string" ? { sweepId } : {}),
    ...(typeof firstDeferredAt === "string" && Number.isFinite(Date.parse(firstDeferredAt)) ? { firstDeferredAt } : {}),
    ...(typeof requeues === "number" && Number.isInteger(requeues) && requeues > 0 ? { requeues } : {}),
    ...(typeof sweepSize === "number" && Number.isInteger(sweepSize) && sweepSize > 0 ? { sweepSize } : {}),
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

  /** Messages in the fan-out queue, visible or not (the service's approximate count): the backlog a deferral waits behind. */
  async approximateCount(): Promise<number> {
    try {
      return (await this.client(TARGET_QUEUE).getProperties()).approximateMessagesCount ?? 0;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return 0;
      throw new SyncError("StorageError", `Could not read ${TARGET_QUEUE}: ${storageFailure(err)}.`, { retryable: true });
    }
  }

  /**
   * What the host gave up on, every message (an operator decides what to do with them).
   * A peek shows at most 32; beyond that the messages are read in pages of 32, each hidden
   * while the rest are read (nothing consumes the poison queue, and nothing is deleted), and
   * then made visible again. A status read at the same moment may miss some for that long.
   */
  async peekPoison(): Promise<PoisonEntry[]> {
    const queue = this.client(POISON_QUEUE);
    const entry = (m: { messageText: string; insertedOn?: Date; dequeueCount: number }): PoisonEntry => {
      const decoded = decodeMessage(m.messageText);
      const target = typeof decoded === "object" && decoded !== null ? String((decoded as { target?: unknown }).target ?? "?") : "?";
      return { target, insertedOn: m.insertedOn?.toISOString(), dequeueCount: m.dequeueCount };
    };
    try {
      if (!(await queue.exists())) return [];
      const peeked = (await queue.peekMessages({ numberOfMessages: PAGE })).peekedMessageItems;
      if (peeked.length < PAGE) return peeked.map(entry);
      const seen = new Map<string, PoisonEntry>();
      const receipts: { id: string; popReceipt: string }[] = [];
      try {
        for (;;) {
          const page = (await queue.receiveMessages({ numberOfMessages: PAGE, visibilityTimeout: POISON_READ_INVISIBLE_SECONDS })).receivedMessageItems;
          const fresh = page.filter((m) => !seen.has(m.messageId));
          for (const m of fresh) seen.set(m.messageId, entry(m));
          receipts.push(...page.map((m) => ({ id: m.messageId, popReceipt: m.popReceipt })));
          if (fresh.length === 0) break;
        }
      } finally {
        // Visible again at once: the next reader (another status) sees them all too.
        await mapWithConcurrency(receipts, SEND_CONCURRENCY, (r) => queue.updateMessage(r.id, r.popReceipt, undefined, 0).then(() => undefined, () => undefined));
      }
      return [...seen.values()];
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
