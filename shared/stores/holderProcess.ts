import { hostname } from "node:os";

/**
 * Which process holds a lease, as "<host>:<pid>": what `billing-sync unlock` judges whether
 * the holder is still alive by (a process on this host can be asked; one elsewhere cannot).
 */
export function holderProcess(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Whether the process a lease names is alive: true or false when it ran on this host,
 * undefined when it ran elsewhere (or the lease does not say).
 */
export function holderAlive(processName: string | undefined): boolean | undefined {
  const match = processName === undefined ? null : /^(.*):(\d+)$/.exec(processName);
  if (!match || match[1] !== hostname()) return undefined;
  try {
    process.kill(Number(match[2]), 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
