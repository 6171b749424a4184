import type { CliIo } from "./io";

/**
 * A progress line on stderr, rewritten in place, only when stderr is a terminal: a pipe
 * or a log file gets nothing from it (stdout keeps the command's output). At most ten
 * updates a second.
 */
export interface Progress {
  update(text: string): void;
  /** Clears the line. */
  done(): void;
}

const SILENT: Progress = { update() {}, done() {} };

export function progressLine(io: CliIo, now: () => number = Date.now): Progress {
  if (!io.stderrIsTTY) return SILENT;
  let last = 0;
  let shown = false;
  return {
    update(text) {
      const t = now();
      if (t - last < 100) return;
      last = t;
      shown = true;
      io.stderr(`\r\u001b[2K${text}`);
    },
    done() {
      if (shown) io.stderr("\r\u001b[2K");
      shown = false;
    },
  };
}
