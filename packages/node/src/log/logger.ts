/** The subset of pino's API the log machinery uses; a pino logger fits as is. */
export interface LogEngineLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const silentLogger: LogEngineLogger = {
  info() {},
  warn() {},
  error() {},
};
