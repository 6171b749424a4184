/**
 * The engine logs through this interface only (no console in shared/). Messages carry
 * ids and field names, never values: values reach a log only through maskValue.
 */
export type LogProperties = Record<string, string | number | boolean | undefined | null | string[]>;

export interface Logger {
  info(message: string, properties?: LogProperties): void;
  warn(message: string, properties?: LogProperties): void;
  error(message: string, properties?: LogProperties): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** A logger that writes one line per record to a stream (the CLI uses stderr). */
export function streamLogger(write: (line: string) => void, options: { verbose?: boolean } = {}): Logger {
  const line = (level: string, message: string, properties?: LogProperties) => {
    const props = properties ? ` ${JSON.stringify(properties)}` : "";
    write(`${level} ${message}${props}\n`);
  };
  return {
    info: (m, p) => (options.verbose ? line("info", m, p) : undefined),
    warn: (m, p) => line("warn", m, p),
    error: (m, p) => line("error", m, p),
  };
}
