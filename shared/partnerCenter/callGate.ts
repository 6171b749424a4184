import { Semaphore } from "../core";

/**
 * Partner Center requests one process may have in flight at once, whoever asks: timer
 * fan-outs, queue messages, HTTP requests and CLI commands of one process share it, so no
 * caller (a holder of the function key included) can multiply the load on the partner's
 * throttling budget by asking more often. A request holds its slot only while it is on the
 * wire, not while it waits to retry.
 */
export const DEFAULT_PARTNER_CENTER_CALL_LIMIT = 8;

let processGate: Semaphore | undefined;

/** The process's gate, created on first use with the default limit. */
export function processCallGate(): Semaphore {
  return (processGate ??= new Semaphore(DEFAULT_PARTNER_CENTER_CALL_LIMIT));
}
