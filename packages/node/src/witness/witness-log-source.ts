import { NoteVerifier, RemembrancerError, type NoteSignatureVerifier } from '@vaultmesh/core';

/**
 * Which logs a witness cosigns, and with which keys: https://c2sp.org/tlog-witness ("Each witness
 * is configured with a list of supported log public keys"). `origin` comes from an
 * unauthenticated request; undefined (or no key) means the origin is unknown and the witness
 * answers 404. The federation layer implements this over the registry's active peers plus an
 * allowlist of external logs; the keys for an origin need not be named after it (the log's key
 * name only SHOULD match the origin, https://c2sp.org/tlog-checkpoint#signatures).
 */
export interface WitnessLogSource {
  verifiersFor(origin: string): readonly NoteSignatureVerifier[] | undefined;
}

/** A log key given as a vkey (Ed25519, type 0x01) or as a ready verifier. */
export type WitnessLogKey = string | NoteSignatureVerifier;

/** A fixed origin → log keys table, for configuration and tests. */
export class StaticWitnessLogs implements WitnessLogSource {
  // A Map, not an object: origins are attacker-chosen strings such as "__proto__".
  readonly #byOrigin = new Map<string, readonly NoteSignatureVerifier[]>();

  constructor(
    logs: Iterable<readonly [string, readonly WitnessLogKey[]]> | Readonly<Record<string, readonly WitnessLogKey[]>>,
  ) {
    const entries = Symbol.iterator in logs ? [...logs] : Object.entries(logs);
    for (const [origin, keys] of entries) {
      // https://c2sp.org/tlog-checkpoint#note-text: a non-empty line.
      if (typeof origin !== 'string' || origin === '' || /[\u0000-\u001f]/.test(origin)) {
        throw new RemembrancerError(
          'CONFIG_INVALID',
          `witness log origin ${JSON.stringify(origin)} is not a valid checkpoint origin`,
        );
      }
      if (this.#byOrigin.has(origin))
        throw new RemembrancerError('CONFIG_INVALID', `witness log origin ${JSON.stringify(origin)} is listed twice`);
      if (!Array.isArray(keys) || keys.length === 0) {
        throw new RemembrancerError(
          'CONFIG_INVALID',
          `witness log ${JSON.stringify(origin)} needs at least one log key`,
        );
      }
      const verifiers = keys.map((k: WitnessLogKey) => {
        if (typeof k !== 'string') return k;
        try {
          return NoteVerifier.fromVkey(k);
        } catch (cause) {
          throw new RemembrancerError('CONFIG_INVALID', `witness log ${JSON.stringify(origin)}: invalid log vkey`, {
            cause,
          });
        }
      });
      this.#byOrigin.set(origin, Object.freeze(verifiers));
    }
  }

  verifiersFor(origin: string): readonly NoteSignatureVerifier[] | undefined {
    return this.#byOrigin.get(origin);
  }

  origins(): string[] {
    return [...this.#byOrigin.keys()];
  }
}
