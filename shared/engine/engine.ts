import { randomUUID } from "node:crypto";
import type { TokenCredential } from "@azure/core-auth";
import { createUserCredential, StaticTokenCredential, type UserAuthOptions } from "../auth";
import { type CallRecord, PartnerCenterClient, partnerCenterScope, processCallGate, type ResponseCache } from "../partnerCenter";
import { type AccountRef, checkTargetName, type ContestPolicy, type DesiredState, type LiveProfile, planChanges, Redactor, type ResourceRef, type RunResult, type Trigger } from "../model";
import { type Logger, mapWithConcurrency, type RetryLoopOptions, Semaphore, silentLogger, SyncError } from "../core";
import { DepartureStore, DesiredChangeStore, DesiredStateStore, HistoryStore, LeaseStore, type PoisonEntry, QueuedTargets, type StorageRetryOptions, SweepStore, TableFactory, TargetQueue, type Via } from "../stores";
import { DepartureSweeps } from "./departureSweeps";
import { SUSPENSION_COMMAND } from "./departures";
import { writeContextFor } from "./desiredWrite";
import { reconcile, type ReconcileOptions } from "./reconcile";
import type { EngineDeps, FinishedRun, ReconcileRequest } from "./run";
import { DEFAULT_CALLS_PER_MINUTE, type Settings } from "../config";
import { fanOutTargetsPerMinute } from "./budget";
import { planSweep, scheduleIntervalInMs, type SweepPlan } from "./sweep";
import { checkBeforePut, type Preflight } from "./preflight";
import { newSweepId, sweepLimit } from "./sweepGate";
import type { Interruption } from "./interruption";
import { allStatuses, type StatusPage, statusPage, type StatusSummary, statusSummary, targetStatus, type TargetStatus } from "./status";

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
  /** A custom telemetry event outside a run's records (DesiredStateChanged, DesiredStateChangedOutside, CustomerGone). */
  onEvent?: (name: string, dimensions: Record<string, string>) => void;
  /** PARTNER_CENTER_AUTH=user: hooks (onRotated) and stand-ins for tests (local token endpoint, Key Vault TLS). */
  userAuth?: UserAuthOptions;
  /**
   * Partner Center requests this engine may have in flight. Default: the process's gate
   * (8), shared with every other engine of the process; a number gives this engine a gate
   * of its own (the fan-out bench).
   */
  partnerCallLimit?: number;
  /** Where an unknown call limit is looked for from (default 500 a minute); the bench starts lower. */
  rateStartPerMinute?: number;
  /** How long a rate decrease takes to come back (default a minute): benchmarks that scale time scale it too. */
  rateRecoveryInMs?: number;
  /** Where country rules and address verdicts are kept (default: the process's, a day). */
  responseCache?: ResponseCache;
  /** Where this engine runs, for the change log of the writes the app makes itself (a departed customer's suspension); default `function`. */
  via?: Via;
}

export interface SyncAllOptions {
  trigger: Trigger;
  dryRun?: boolean;
  /** Partner Center call slots the fan-out is sized for (default: the gate's); the gate still bounds the calls. */
  concurrency?: number;
  log?: Logger;
  /** The sweep's id, when the caller names it (else a new one); a dry run is no sweep. */
  sweepId?: string;
  /** After each run: how many are done of how many (a progress line). */
  onProgress?: (progress: { done: number; total: number; run: RunResult }) => void;
  /** Once stopped, no new run starts (they are left out of the result); its abort ends the runs in flight `interrupted`. */
  interruption?: Interruption;
}

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
  readonly sweeps: SweepStore;
  /** The change log of the desired state (docs/change-control.md). */
  readonly changes: DesiredChangeStore;
  /** The storage account's table clients (the retention purge goes through them). */
  readonly tables: TableFactory;
  readonly queue?: TargetQueue;
  /** Targets with a fan-out message outstanding (one sweep at a time). */
  readonly queued: QueuedTargets;
  readonly deps: EngineDeps;
  /** Departed customers are judged per sweep (departures.ts). */
  readonly departures: DepartureSweeps;
  /** Bounds the Partner Center requests of every client of this engine (by default, of the whole process). */
  readonly partnerGate: Semaphore;
  private readonly clients = new Map<string, PartnerCenterClient>();
  /** Dry runs under way, by target: a concurrent identical one shares the run instead of calling again. */
  private readonly plans = new Map<string, Promise<RunResult>>();

  constructor(
    readonly settings: Settings,
    private readonly options: EngineOptions = {},
  ) {
    const tables = new TableFactory(settings.storage, options.storageRetry);
    this.tables = tables;
    this.partnerGate = options.partnerCallLimit === undefined ? processCallGate() : new Semaphore(options.partnerCallLimit);
    this.desired = new DesiredStateStore(tables);
    this.history = new HistoryStore(tables);
    this.leases = new LeaseStore(tables);
    this.sweeps = new SweepStore(tables);
    this.changes = new DesiredChangeStore(tables);
    this.queue = settings.queue ? new TargetQueue(settings.queue) : undefined;
    this.queued = new QueuedTargets(tables);
    this.deps = {
      desired: this.desired,
      history: this.history,
      leases: this.leases,
      sweeps: this.sweeps,
      maxCorrectionsPerSweep: settings.maxCorrectionsPerSweep,
      partnerClient: (account) => this.partnerClient(account),
      log: options.log ?? silentLogger,
      contestPolicy: options.contestPolicy,
      leaseDurationInMs: options.leaseDurationInMs,
      runTimeoutInMs: options.runTimeoutInMs,
      onRunFinished: options.onRunFinished,
      changes: this.changes,
      outOfBand: settings.changeControl?.outOfBand,
      onEvent: options.onEvent,
    };
    this.departures = new DepartureSweeps(new DepartureStore(tables), {
      desired: this.desired,
      history: this.history,
      changes: this.changes,
      // The app suspends on its own: who is its storage identity, where is where this engine runs.
      writeContext: () => writeContextFor(this, SUSPENSION_COMMAND, { via: options.via ?? "function", onEvent: options.onEvent }),
      onEvent: options.onEvent,
      log: this.deps.log,
    });
  }

  /** The account's budget of calls a minute: every client's ceiling, and the fan-out's pace. */
  get budgetPerMinute(): number {
    return this.settings.callsPerMinute ?? DEFAULT_CALLS_PER_MINUTE;
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
        gate: this.partnerGate,
        rate: { limitPerMinute: this.budgetPerMinute, startPerMinute: this.options.rateStartPerMinute, recoveryInMs: this.options.rateRecoveryInMs },
        cache: this.options.responseCache,
      });
      this.clients.set(key, client);
    }
    return client;
  }

  syncTarget(request: ReconcileRequest, options?: ReconcileOptions): Promise<RunResult> {
    checkTargetName(request.target);
    return this.run(request, options);
  }

  /**
   * One run. A dry run writes nothing but its history row, so concurrent dry runs of one
   * target (six HTTP requests, a CLI plan during a fan-out) share the first one's run and
   * result instead of each reading Partner Center; a sync needs no such sharing, the lease
   * lets one through and answers the others in-progress without a call.
   */
  private run(request: ReconcileRequest, options?: ReconcileOptions): Promise<RunResult> {
    if (!request.dryRun) return reconcile(request, this.deps, options);
    const shared = this.plans.get(request.target);
    if (shared) return shared;
    const started = reconcile(request, this.deps, options).finally(() => this.plans.delete(request.target));
    this.plans.set(request.target, started);
    return started;
  }

  async listTargets(): Promise<string[]> {
    return this.desired.listTargets();
  }

  /**
   * Every target in this process; one target's failure never stops another's. The gate
   * keeps Partner Center calls in flight at its limit; more runs than that are under way,
   * so that their table reads and writes overlap the calls instead of adding to them.
   */
  async syncAll(options: SyncAllOptions): Promise<RunResult[]> {
    const targets = await this.listTargets();
    const slots = options.concurrency ?? this.partnerGate.permits;
    const sweepId = options.dryRun ? undefined : await this.startSweep(options.trigger, targets.length, options.sweepId);
    // Departed customers are judged over the whole sweep (departures.ts).
    const departures = this.departures.inMemory(targets.length);
    let done = 0;
    const stop = options.interruption;
    const runs = await mapWithConcurrency(targets, slots * RUNS_PER_PARTNER_SLOT, async (target) => {
      if (stop?.stopped) return undefined;
      const run = await this.run({ target, trigger: options.trigger, dryRun: options.dryRun, sweepId }, { log: options.log, abortSignal: stop?.abortSignal, sweep: departures });
      options.onProgress?.({ done: ++done, total: targets.length, run });
      return run;
    });
    // A plan writes nothing: it notes departures, a sync acts on them; a sweep cut short judges no one.
    if (!options.dryRun && !stop?.stopped) await this.departures.close(departures).catch((err: unknown) => (options.log ?? this.deps.log).warn(`Departed customers not judged: ${(err as Error).message}`));
    return runs.filter((run): run is RunResult => run !== undefined);
  }

  /**
   * Fan-out: one queue message per target, for the queue-triggered function to run, one
   * sweep at a time (sweep.ts): targets an earlier sweep still has queued or deferred are
   * skipped, and the rest are spread evenly over the schedule's interval at the budget's
   * pace (or the lower rate the account has learned), so that every instance together
   * stays within the budget. A sweep (not a plan) also gets its PUT limit's row and a
   * tally of departed customers (departures.ts).
   */
  async enqueueAll(trigger: Trigger, options: { dryRun?: boolean; now?: Date; sweepId?: string } = {}): Promise<{ targets: string[]; spreadInSeconds: number } & Omit<SweepPlan, "targets" | "delays">> {
    if (!this.queue) throw new SyncError("ConfigError", "No fan-out queue is configured (AzureWebJobsStorage).");
    const now = options.now ?? new Date();
    // A plan writes nothing: it neither waits for nor holds back a sweep's syncs.
    const [targets, outstanding] = await Promise.all([this.listTargets(), options.dryRun ? new Map() : this.queued.outstanding(now)]);
    const plan = planSweep(targets, new Set(outstanding.keys()), fanOutTargetsPerMinute(Math.min(this.budgetPerMinute, this.partnerClient().rate.callsPerMinute)), scheduleIntervalInMs(this.settings.schedule, now), options.sweepId ?? newSweepId(trigger, now));
    const enqueuedAt = now.toISOString();
    const { sweepId, delays } = plan;
    // The sweep's row (its PUT limit, a share of all the targets) exists before any of its messages can run.
    if (!options.dryRun) await this.startSweep(trigger, targets.length, sweepId, now);
    await this.departures.closeDue(now);
    const departures = options.dryRun || plan.targets.length === 0 ? undefined : await this.departures.open(sweepId, plan.targets.length, (delays.at(-1) ?? 0) * 1000, now);
    // Marked before they are sent: a message never runs without its mark (a mark without its message goes stale).
    if (!options.dryRun) await this.queued.mark(plan.targets.map((target, i) => ({ target, sweepId, visibleAt: new Date(now.getTime() + delays[i] * 1000).toISOString() })));
    await this.queue.enqueue(
      plan.targets.map((target, i) => ({ message: { target, trigger, enqueuedAt, ...(options.dryRun ? { dryRun: true } : { sweepId }), ...(departures ? { sweepSize: departures.size } : {}) }, delayInSeconds: delays[i] })),
    );
    const { targets: _queued, delays: _delays, ...rest } = plan;
    return { ...rest, targets: plan.targets, spreadInSeconds: delays.at(-1) ?? 0 };
  }

  /** Records a new sweep and its PUT limit (BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP, or 10% of its targets, at least 10). */
  async startSweep(trigger: Trigger, targets: number, sweepId?: string, now = new Date()): Promise<string> {
    const id = sweepId ?? newSweepId(trigger, now);
    await this.sweeps.create({ sweepId: id, trigger, createdAt: now.toISOString(), targets, putLimit: sweepLimit(targets, this.settings.maxCorrectionsPerSweep) });
    return id;
  }

  /** The live profile of a target's resource, read once, for previews (restore, adopt); not a run. */
  async readLive(resource: ResourceRef, account: AccountRef): Promise<LiveProfile> {
    return (await this.partnerClient(account).getProfile(resource, { correlationId: randomUUID() })).profile;
  }

  /**
   * The checks a sync makes before its PUT (country rules, address validation), for a
   * desired row about to be written: against the live profile, on the values a sync would
   * change. Makes Partner Center calls; a failure to reach it is the caller's to report.
   */
  async checkDesired(desired: DesiredState, options: { abortSignal?: AbortSignal } = {}): Promise<Preflight> {
    const client = this.partnerClient(desired.account);
    const redactor = new Redactor().addDesiredProperties(Object.fromEntries(desired.fields));
    const callOptions = { correlationId: randomUUID(), abortSignal: options.abortSignal, redactor };
    const live = (await client.getProfile(desired.resource, callOptions)).profile;
    redactor.addProfile(live.body);
    return checkBeforePut(desired, live, planChanges(desired, live), client, callOptions);
  }

  /** Every target's status in full: for a handful of targets (a summary is for thousands). */
  async status(now = new Date()): Promise<TargetStatus[]> {
    const poison = await this.poison();
    return allStatuses(this, { now, poison });
  }

  async targetStatus(target: string, now = new Date()): Promise<TargetStatus> {
    return targetStatus(this, checkTargetName(target), { now, poison: await this.poison() });
  }

  /** Counts by outcome, and the targets that need a person: for any number of targets. */
  async statusSummary(now = new Date()): Promise<StatusSummary> {
    return statusSummary(this, { now, poison: await this.poison() });
  }

  /** One page of per-target statuses (GET /api/status). */
  async statusPage(options: { pageSize?: number; continuationToken?: string }, now = new Date()): Promise<StatusPage> {
    return statusPage(this, { ...options, now, poison: await this.poison() });
  }

  private poison(): Promise<PoisonEntry[]> {
    return this.queue ? this.queue.peekPoison() : Promise.resolve([]);
  }
}
