import { Interruption } from "../engine";

/**
 * The Functions worker's stop: the host sends SIGTERM when it scales an instance in or
 * restarts the app. Then no new run starts here (a queue message that arrives goes back to
 * the queue), the runs under way get a grace period to finish and record, then they end
 * `interrupted` and release their leases; the worker exits once none is left, or after a
 * bound, whichever comes first.
 */
export const WORKER_GRACE_IN_MS = 5_000;
/** After the grace, aborted runs only record and release: this bounds how long that takes. */
const RECORD_BOUND_IN_MS = 10_000;

let interruption: Interruption | undefined;
let inFlight = 0;

function maybeExit(): void {
  if (interruption?.stopped && inFlight === 0) process.exit(0);
}

/** The worker's Interruption, its signal handlers installed on first use. */
export function workerInterruption(): Interruption {
  if (!interruption) {
    const stop = new Interruption();
    const onSignal = (signal: NodeJS.Signals) => {
      if (stop.stopped) return;
      stop.stop(signal, WORKER_GRACE_IN_MS);
      setTimeout(() => process.exit(0), WORKER_GRACE_IN_MS + RECORD_BOUND_IN_MS).unref();
      maybeExit();
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
    interruption = stop;
  }
  return interruption;
}

/** Runs an invocation's work counted as in flight, so that a stopped worker exits when the last one has recorded. */
export async function inFlightRun<T>(work: () => Promise<T>): Promise<T> {
  inFlight++;
  try {
    return await work();
  } finally {
    inFlight--;
    maybeExit();
  }
}
