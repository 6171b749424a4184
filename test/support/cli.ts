import { runCli } from "../../cli/main";
import { fastRetry, type Harness } from "./harness";

export interface CliOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** billing-sync in this process against the harness (its settings, plus `env`), with the harness's short retries. */
export async function cliOn(h: Harness, argv: readonly string[], env: Record<string, string> = {}): Promise<CliOutput> {
  let stdout = "";
  let stderr = "";
  const code = await runCli([...argv], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { ...h.env, ...env }, engineOptions: { retry: fastRetry(h.waits) } });
  return { code, stdout, stderr };
}
