import { TableClient, type TableServiceClientOptions } from "@azure/data-tables";
import type { TokenCredential } from "@azure/core-auth";
import { azureErrorCode, SyncError } from "../core";
import type { StorageSettings } from "../config";

/** The Azure SDK's retry settings for a storage request (maxRetries, retryDelayInMs, maxRetryDelayInMs). */
export type StorageRetryOptions = NonNullable<TableServiceClientOptions["retryOptions"]>;

export const TABLES = {
  desired: "BillingProfileDesired",
  history: "BillingProfileHistory",
  leases: "BillingProfileLeases",
  sweeps: "BillingProfileSweeps",
  desiredChanges: "BillingProfileDesiredChanges",
  status: "BillingProfileStatus",
} as const;

export interface TableFactoryOptions {
  /**
   * Whether a store creates its table on first use. Default: with a connection string
   * (Azurite, a local or key-based account) yes; with an endpoint URL (Entra ID, as in
   * Azure) no: the deployment creates the tables (infra/core/storage.bicep) and the app's
   * identity holds data rights on those tables only, not the right to create one.
   */
  createTables?: boolean;
}

/**
 * Table clients for one storage account. A connection string (Azurite, local) or an
 * endpoint URL with DefaultAzureCredential (Azure, managed identity). The identity
 * package is loaded only for the endpoint form: it is costly to import.
 */
export class TableFactory {
  private credential?: TokenCredential;
  private readonly created = new Map<string, Promise<void>>();
  /** See TableFactoryOptions.createTables. */
  readonly createsTables: boolean;

  constructor(
    private readonly storage: StorageSettings,
    /** The SDK's own retry of a storage request (default: 3 retries, exponential from 1 s). */
    private readonly retryOptions?: StorageRetryOptions,
    options: TableFactoryOptions = {},
  ) {
    this.createsTables = options.createTables ?? storage.kind === "connectionString";
  }

  client(tableName: string): TableClient {
    const retryOptions = this.retryOptions;
    if (this.storage.kind === "connectionString") {
      const options: TableServiceClientOptions = {
        retryOptions,
        allowInsecureConnection: /(^|;)\s*(DefaultEndpointsProtocol=http|UseDevelopmentStorage=true)\s*(;|$)/i.test(this.storage.connectionString) || /TableEndpoint=http:/i.test(this.storage.connectionString),
      };
      return TableClient.fromConnectionString(this.storage.connectionString, tableName, options);
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.credential ??= new (require("@azure/identity") as typeof import("@azure/identity")).DefaultAzureCredential();
    return new TableClient(this.storage.endpoint, tableName, this.credential, { retryOptions });
  }

  /** Creates the table once per process when this factory creates tables; an existing table is not an error. */
  ensure(client: TableClient): Promise<void> {
    if (!this.createsTables) return Promise.resolve();
    let pending = this.created.get(client.tableName);
    if (!pending) {
      pending = client.createTable().catch((err: unknown) => {
        this.created.delete(client.tableName);
        throw err;
      });
      this.created.set(client.tableName, pending);
    }
    return pending;
  }
}

/** The HTTP status of a Table Storage (RestError) failure, if it has one. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/**
 * What a storage failure was, in a word: the service's error code or Node's network code in
 * the shape real ones have, else the HTTP status. Never the error's message, which may
 * quote the service's answer (and so anything a hostile endpoint puts there).
 */
export function storageFailure(err: unknown): string {
  const status = statusOf(err);
  const code = azureErrorCode((err as { code?: unknown } | undefined)?.code);
  if (code) return code;
  if (typeof status === "number") return `HTTP ${status}`;
  return `an error without a code (${(err as { name?: unknown } | undefined)?.name === "RestError" ? "RestError" : "unexpected"})`;
}

/**
 * The table itself is missing (404 TableNotFound), as opposed to a missing entity. The SDK
 * does not always fill `code` (Azurite's answers leave it empty); the service's error body,
 * which the message carries, names it either way.
 */
export function isTableNotFound(err: unknown): boolean {
  if (statusOf(err) !== 404) return false;
  const { code, message } = err as { code?: string; message?: string };
  return code === "TableNotFound" || /"code"\s*:\s*"TableNotFound"/.test(message ?? "");
}

/** A Table Storage failure as a SyncError naming the table and what we were doing; never the SDK error itself. */
export function storageError(table: string, action: string, err: unknown): SyncError {
  const status = statusOf(err);
  if (isTableNotFound(err)) {
    return new SyncError(
      "StorageError",
      `Could not ${action}: table ${table} does not exist. With an endpoint URL (Entra ID) the app does not create tables; the deployment does (infra/core/storage.bicep), or create it: az storage table create --auth-mode login --account-name <account> --name ${table}.`,
      { statusCode: 404 },
    );
  }
  return new SyncError("StorageError", `Could not ${action} in table ${table}: ${storageFailure(err)}.`, {
    statusCode: typeof status === "number" ? status : undefined,
    retryable: true,
  });
}

/** A missing entity is an expected state, not an error; a missing table is one. */
export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404 && !isTableNotFound(err);
}

export function isPreconditionFailed(err: unknown): boolean {
  const status = statusOf(err);
  return status === 412 || status === 409;
}
