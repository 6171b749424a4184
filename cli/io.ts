import type { EngineOptions } from "../shared/engine";
import type { AuthLoginIo } from "./authLogin";
import type { CliSignals } from "./signals";

/** Where a command reads and writes: the process, or a test or the demo standing in for it. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Colour for human output; off for pipes, NO_COLOR and --no-color. */
  color?: boolean;
  /** stderr is a terminal: long commands show their progress there. */
  stderrIsTTY?: boolean;
  /** For tests and the demo: replaces what the settings would build. */
  engineOptions?: EngineOptions;
  /** Standard input, read whole (`auth login --client-secret-stdin`). */
  readStdin?: () => Promise<string>;
  /** For tests: what `auth login` uses instead of Azure and the real identity platform. */
  authLogin?: AuthLoginIo["userAuth"];
  /** Ctrl-C and SIGTERM of the process (bin.ts): runs stop, record and release their leases. */
  signals?: CliSignals;
}
