import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Azurite's well-known development account (public, documented; not a secret). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

interface AzuriteServer {
  start(): Promise<void>;
  close(): Promise<void>;
  getHttpServerAddress(): string;
}

export interface LocalStorage {
  tableEndpoint: string;
  queueEndpoint?: string;
  connectionString: string;
  stop(): Promise<void>;
}

/**
 * Starts Azurite's Table (and optionally Queue) service in this process, in memory, on
 * free ports. Azurite is a devDependency: the demo and the tests use it, the deployed
 * app never loads this file.
 */
export async function startAzurite(options: { queue?: boolean } = {}): Promise<LocalStorage> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const TableServer = require("azurite/dist/src/table/TableServer").default;
  const TableConfiguration = require("azurite/dist/src/table/TableConfiguration").default;
  const dir = mkdtempSync(join(tmpdir(), "billing-sync-azurite-"));
  // Positional options: host, port, keep-alive, db path, debug log, access log, log stream,
  // debug path, loose, skip API version check, cert, key, pwd, oauth, disable product-style URL, in memory.
  const table: AzuriteServer = new TableServer(
    new TableConfiguration("127.0.0.1", 0, undefined, join(dir, "table.json"), false, false, undefined, undefined, false, true, "", "", "", undefined, false, true),
  );
  await table.start();
  const servers: AzuriteServer[] = [table];
  const tableEndpoint = `${table.getHttpServerAddress()}/${AZURITE_ACCOUNT}`;
  let queueEndpoint: string | undefined;
  if (options.queue) {
    const QueueServer = require("azurite/dist/src/queue/QueueServer").default;
    const QueueConfiguration = require("azurite/dist/src/queue/QueueConfiguration").default;
    const queue: AzuriteServer = new QueueServer(
      new QueueConfiguration(
        "127.0.0.1", 0, undefined, join(dir, "queue.json"), join(dir, "queue-extent.json"),
        [{ locationId: "Default", locationPath: join(dir, "queue-data"), maxConcurrency: 1 }],
        false, undefined, false, undefined, false, true, "", "", "", undefined, false, true,
      ),
    );
    await queue.start();
    servers.push(queue);
    queueEndpoint = `${queue.getHttpServerAddress()}/${AZURITE_ACCOUNT}`;
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=${tableEndpoint};` +
    (queueEndpoint ? `QueueEndpoint=${queueEndpoint};` : "");
  return {
    tableEndpoint,
    queueEndpoint,
    connectionString,
    stop: async () => {
      await Promise.all(servers.map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
