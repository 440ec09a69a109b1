import { RemembrancerError } from '@vaultmesh/core';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT` or `[v6]:PORT`; port 0 asks the OS for a free one. */
export function parseListenAddress(s: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):([0-9]{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new RemembrancerError('INVALID_ARGUMENT', `listen address '${s}' must be HOST:PORT`);
  return { host: (m[1] ?? m[2])!, port };
}
