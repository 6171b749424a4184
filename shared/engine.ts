import type { TokenCredential } from "@azure/core-auth";
import { StaticTokenCredential } from "./auth/staticCredential";
import { createUserCredential, type UserAuthOptions } from "./auth/userCredential";
import { partnerCenterScope } from "./clouds";
import { silentLogger, type Logger } from "./logger";
import { PartnerCenterClient, type CallRecord } from "./partnerClient";
import { mapWithConcurrency } from "./pool";
import { reconcile, type EngineDeps, type FinishedRun, type ReconcileOptions, type ReconcileRequest } from "./reconcile";
import type { RetryLoopOptions } from "./http";
import type { RunResult, Trigger } from "./runResult";
import type { Settings } from "./settings";
import { DesiredStateStore } from "./stores/desiredStore";
import { HistoryStore, type HistoryRecord } from "./stores/historyStore";
import { TableFactory } from "./stores/tables";
import { checkTargetName } from "./target";

export interface EngineOptions {
  log?: Logger;
  /** Replaces the credential the settings would build (tests, the demo). */
  credential?: TokenCredential;
  retry?: RetryLoopOptions;
  timeoutInMs?: number;
  onCall?: (call: CallRecord) => void;
  onRunFinished?: (run: FinishedRun) => void;
  /** PARTNER_CENTER_AUTH=user: hooks (onRotated) and stand-ins for tests (local token endpoint, Key Vault TLS). */
  userAuth?: UserAuthOptions;
}

export interface SyncAllOptions {
  trigger: Trigger;
  dryRun?: boolean;
  /** Targets run in parallel, at most this many at once. */
  concurrency?: number;
  log?: Logger;
}

export interface TargetStatus {
  target: string;
  mode?: string;
  suspended?: boolean;
  lastRun?: HistoryRecord;
}

function credentialFor(settings: Settings, options: EngineOptions): TokenCredential {
  if (settings.auth.kind === "static") return new StaticTokenCredential(settings.auth.token);
  return createUserCredential(settings, settings.auth, options.userAuth);
}

/** The engine of one process: table stores, a Partner Center client, and the sync entry points. */
export class Engine {
  readonly desired: DesiredStateStore;
  readonly history: HistoryStore;
  readonly deps: EngineDeps;
  private readonly client: PartnerCenterClient;

  constructor(
    readonly settings: Settings,
    options: EngineOptions = {},
  ) {
    const tables = new TableFactory(settings.storage);
    this.desired = new DesiredStateStore(tables);
    this.history = new HistoryStore(tables);
    this.client = new PartnerCenterClient({
      baseUrl: settings.apiBaseUrl,
      credential: options.credential ?? credentialFor(settings, options),
      scope: partnerCenterScope(settings.apiBaseUrl),
      timeoutInMs: options.timeoutInMs,
      retry: options.retry,
      onCall: options.onCall,
    });
    this.deps = {
      desired: this.desired,
      history: this.history,
      partnerClient: () => this.client,
      log: options.log ?? silentLogger,
      onRunFinished: options.onRunFinished,
    };
  }

  syncTarget(request: ReconcileRequest, options?: ReconcileOptions): Promise<RunResult> {
    checkTargetName(request.target);
    return reconcile(request, this.deps, options);
  }

  async listTargets(): Promise<string[]> {
    return this.desired.listTargets();
  }

  /** Every target, bounded concurrency; one target's failure never stops another's. */
  async syncAll(options: SyncAllOptions): Promise<RunResult[]> {
    const targets = await this.listTargets();
    return mapWithConcurrency(targets, options.concurrency ?? 8, (target) =>
      reconcile({ target, trigger: options.trigger, dryRun: options.dryRun }, this.deps, { log: options.log }),
    );
  }

  async status(): Promise<TargetStatus[]> {
    const targets = await this.listTargets();
    return mapWithConcurrency(targets, 8, async (target) => {
      const [row, runs] = await Promise.all([this.desired.get(target), this.history.list(target, { limit: 1 })]);
      return {
        target,
        mode: typeof row?.properties.Mode === "string" ? row.properties.Mode : "enforce",
        suspended: row?.properties.Suspended === true,
        lastRun: runs[0],
      };
    });
  }
}
