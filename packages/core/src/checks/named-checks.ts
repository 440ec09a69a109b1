import { errorMessage } from '../errors.js';

export interface NamedCheck<N extends string> {
  name: N;
  ok: boolean;
  detail: string;
}

/**
 * The check list of an offline verifier that reports each check by name and never throws (the
 * Bitcoin and EVM anchor verifiers): `run` runs one check and lists it — its detail when it
 * passes, the error's message when it throws — and returns its value, or undefined once failed.
 */
export function namedChecks<N extends string>(): {
  checks: NamedCheck<N>[];
  run: <T>(name: N, check: () => [T, string]) => T | undefined;
} {
  const checks: NamedCheck<N>[] = [];
  const run = <T>(name: N, check: () => [T, string]): T | undefined => {
    try {
      const [value, detail] = check();
      checks.push({ name, ok: true, detail });
      return value;
    } catch (e) {
      checks.push({ name, ok: false, detail: errorMessage(e) });
      return undefined;
    }
  };
  return { checks, run };
}
