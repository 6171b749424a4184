import * as http from "node:http";
import { listenLocal, type LocalServer } from "./localServer";

/**
 * An HTTP relay in front of Azurite's Table service that can answer chosen requests
 * itself, the way a storage endpoint (or something impersonating one) might: any status,
 * any x-ms-error-code header, any error body. Everything else reaches Azurite unchanged.
 * Where tcpProxy.ts takes storage off the network, this makes it say things.
 */
export interface TableFault {
  /** Matches the request's method and its decoded path (e.g. /BillingProfileHistory\(PartitionKey='t'/). */
  method?: string;
  path: RegExp;
  /** Matching requests let through before the fault applies. */
  skip?: number;
  /** How many matching requests it answers; default 1. */
  times?: number;
  status: number;
  errorCode: string;
  message: string;
  /**
   * The request reaches Azurite and is applied; its answer is dropped (the connection is
   * destroyed) instead of the fault's: a write that landed and whose answer was lost.
   */
  afterApply?: boolean;
}

export interface TableFaultProxy {
  readonly port: number;
  /** The TableEndpoint for a connection string (Azurite's account path kept). */
  endpoint(account: string): string;
  inject(fault: TableFault): void;
  clear(): void;
  /** Faults answered so far. */
  readonly answered: number;
  /** Every request relayed to Azurite and answered: method and decoded path with query. */
  readonly relayed: string[];
  close(): Promise<void>;
}

export async function startTableFaultProxy(targetPort: number): Promise<TableFaultProxy> {
  let faults: (TableFault & { skipped: number; left: number })[] = [];
  let answered = 0;
  const relayed: string[] = [];
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(req.url ?? "/");
    const fault = faults.find((f) => (f.method === undefined || f.method === req.method) && f.path.test(path));
    if (fault && fault.skipped < (fault.skip ?? 0)) {
      fault.skipped++;
    } else if (fault) {
      fault.left--;
      if (fault.left <= 0) faults = faults.filter((f) => f !== fault);
      answered++;
      if (fault.afterApply) {
        const upstream = http.request({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          answer.resume();
          answer.once("end", () => res.destroy());
        });
        upstream.on("error", () => res.destroy());
        req.pipe(upstream);
        return;
      }
      req.resume();
      const body = JSON.stringify({ "odata.error": { code: fault.errorCode, message: { lang: "en-US", value: fault.message } } });
      res.writeHead(fault.status, {
        "Content-Type": "application/json;odata=minimalmetadata;streaming=true;charset=utf-8",
        "Content-Length": Buffer.byteLength(body),
        "x-ms-error-code": fault.errorCode,
      });
      res.end(body);
      return;
    }
    res.once("finish", () => relayed.push(`${req.method} ${path}`));
    const upstream = http.request({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  const listening: LocalServer = await listenLocal(server);
  return {
    port: listening.port,
    endpoint: (account) => `http://127.0.0.1:${listening.port}/${account}`,
    inject: (fault) => void faults.push({ ...fault, skipped: 0, left: fault.times ?? 1 }),
    clear: () => void (faults = []),
    get answered() {
      return answered;
    },
    relayed,
    close: () => listening.close(),
  };
}
