import { randomUUID } from "node:crypto";
import type { TokenCredential } from "@azure/core-auth";
import { createUserCredential, StaticTokenCredential, type UserAuthOptions } from "../auth";
import { type CallRecord, PartnerCenterClient, partnerCenterScope, type ResponseCache } from "../partnerCenter";
import { type AccountRef, checkTargetName, type ContestPolicy, type DesiredState, type LiveProfile, planChanges, type RunResult, type Trigger } from "../model";
import { type Logger, mapWithConcurrency, type RetryLoopOptions, Semaphore, silentLogger, SyncError } from "../core";
import { DesiredStateStore, HistoryStore, LeaseStore, type PoisonEntry, type StorageRetryOptions, TableFactory, TargetQueue } from "../stores";
import { reconcile, type ReconcileOptions } from "./reconcile";
import type { EngineDeps, FinishedRun, ReconcileRequest } from "./run";
import type { Settings } from "../config";
import { checkBeforePut, type Preflight } from "./preflight";
import { targetStatus, type TargetStatus } from "./status";

export interface EngineOptions {
  log?: Logger;
  /** Replaces the credential the settings would build, for every account (tests, the demo). */
  credential?: TokenCredential;
  /** Replaces the per-account credential the settings would build (tests of many accounts). */
  credentialFor?: (account: AccountRef) => TokenCredential;
  retry?: RetryLoopOptions;
  /** One Partner Center HTTP attempt (default 30 s). */
  timeoutInMs?: number;
  /** Retries of a Table Storage request, done by the Azure SDK (tests of storage outages shorten them). */
  storageRetry?: StorageRetryOptions;
  contestPolicy?: ContestPolicy;
  leaseDurationInMs?: number;
  runTimeoutInMs?: number;
  onCall?: (call: CallRecord) => void;
  onRunFinished?: (run: FinishedRun) => void;
  /** PARTNER_CENTER_AUTH=user: hooks (onRotated) and stand-ins for tests (local token endpoint, Key Vault TLS). */
  userAuth?: UserAuthOptions;
  /** Where country rules and address verdicts are kept (default: the process's, a day). */
  responseCache?: ResponseCache;
}

export interface SyncAllOptions {
  trigger: Trigger;
  dryRun?: boolean;
  /** Targets run in parallel, at most this many at once. */
  concurrency?: number;
  log?: Logger;
}

export const DEFAULT_CONCURRENCY = 8;
/** Runs in flight per Partner Center call slot in a fan-out (table I/O overlaps the calls). */
const RUNS_PER_PARTNER_SLOT = 4;

/** A target's account may name its own tenant and refresh-token secret; the settings give the defaults. */
function settingsCredential(settings: Settings, account: AccountRef, options: EngineOptions): TokenCredential {
  if (settings.auth.kind === "static") return new StaticTokenCredential(settings.auth.token);
  const auth = {
    ...settings.auth,
    tenantId: account.tenantId ?? settings.auth.tenantId,
    refreshTokenSecretName: account.credentialRef ?? settings.auth.refreshTokenSecretName,
  };
  return createUserCredential(settings, auth, options.userAuth);
}

/** The engine of one process: table stores, Partner Center clients per account, and the entry points. */
export class Engine {
  readonly desired: DesiredStateStore;
  readonly history: HistoryStore;
  readonly leases: LeaseStore;
  readonly queue?: TargetQueue;
  readonly deps: EngineDeps;
  private readonly clients = new Map<string, PartnerCenterClient>();

  constructor(
    readonly settings: Settings,
    private readonly options: EngineOptions = {},
  ) {
    const tables = new TableFactory(settings.storage, options.storageRetry);
    this.desired = new DesiredStateStore(tables);
    this.history = new HistoryStore(tables);
    this.leases = new LeaseStore(tables);
    this.queue = settings.queue ? new TargetQueue(settings.queue) : undefined;
    this.deps = {
      desired: this.desired,
      history: this.history,
      leases: this.leases,
      partnerClient: (account) => this.partnerClient(account),
      log: options.log ?? silentLogger,
      contestPolicy: options.contestPolicy,
      leaseDurationInMs: options.leaseDurationInMs,
      runTimeoutInMs: options.runTimeoutInMs,
      onRunFinished: options.onRunFinished,
    };
  }

  /** One client per partner account, kept for the life of the process (token cache, keep-alive). */
  partnerClient(account: AccountRef = {}): PartnerCenterClient {
    const key = `${account.tenantId ?? ""}|${account.credentialRef ?? ""}`;
    let client = this.clients.get(key);
    if (!client) {
      const credential = this.options.credential ?? this.options.credentialFor?.(account) ?? settingsCredential(this.settings, account, this.options);
      client = new PartnerCenterClient({
        baseUrl: this.settings.apiBaseUrl,
        credential,
        scope: partnerCenterScope(this.settings.apiBaseUrl),
        timeoutInMs: this.options.timeoutInMs,
        retry: this.options.retry,
        onCall: this.options.onCall,
        cache: this.options.responseCache,
      });
      this.clients.set(key, client);
    }
    return client;
  }

  syncTarget(request: ReconcileRequest, options?: ReconcileOptions): Promise<RunResult> {
    checkTargetName(request.target);
    return reconcile(request, this.deps, options);
  }

  async listTargets(): Promise<string[]> {
    return this.desired.listTargets();
  }

  /**
   * Every target in this process; one target's failure never stops another's. At most
   * `concurrency` Partner Center calls are in flight; more runs than that are, so that
   * their table reads and writes overlap the calls instead of adding to them.
   */
  async syncAll(options: SyncAllOptions): Promise<RunResult[]> {
    const targets = await this.listTargets();
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    const partnerGate = new Semaphore(concurrency);
    return mapWithConcurrency(targets, concurrency * RUNS_PER_PARTNER_SLOT, (target) =>
      reconcile({ target, trigger: options.trigger, dryRun: options.dryRun }, this.deps, { log: options.log, partnerGate }),
    );
  }

  /** Fan-out: one queue message per target, for the queue-triggered function to run. */
  async enqueueAll(trigger: Trigger): Promise<string[]> {
    if (!this.queue) throw new SyncError("ConfigError", "No fan-out queue is configured (AzureWebJobsStorage).");
    const targets = await this.listTargets();
    const enqueuedAt = new Date().toISOString();
    await this.queue.enqueue(targets.map((target) => ({ target, trigger, enqueuedAt })));
    return targets;
  }

  /** The live profile of a target's account, read once, for previews (restore, adopt); not a run. */
  async readLive(account: AccountRef): Promise<LiveProfile> {
    return (await this.partnerClient(account).getBillingProfile({ correlationId: randomUUID() })).profile;
  }

  /**
   * The checks a sync makes before its PUT (country rules, address validation), for a
   * desired row about to be written: against the live profile, on the values a sync would
   * change. Makes Partner Center calls; a failure to reach it is the caller's to report.
   */
  async checkDesired(desired: DesiredState, options: { abortSignal?: AbortSignal } = {}): Promise<Preflight> {
    const client = this.partnerClient(desired.account);
    const callOptions = { correlationId: randomUUID(), abortSignal: options.abortSignal };
    const live = (await client.getBillingProfile(callOptions)).profile;
    return checkBeforePut(desired, live, planChanges(desired, live), client, callOptions);
  }

  async status(now = new Date()): Promise<TargetStatus[]> {
    const [targets, poison] = await Promise.all([this.listTargets(), this.queue ? this.queue.peekPoison() : Promise.resolve<PoisonEntry[]>([])]);
    return mapWithConcurrency(targets, DEFAULT_CONCURRENCY, (target) => targetStatus(this, target, { now, poison }));
  }
}
