import {
  RemembrancerError,
  constantTimeEqual,
  crypto,
  documentSignatures,
  signingBytes,
  toHex,
  utf8Encode,
  verifyDocumentSignature,
  type JsonObject,
  type KeyWriter,
  type NamespaceSpec,
  type WriterScope,
} from '@vaultmesh/core';

/*
 * Who may write and read a namespace. Credentials are attacker-controlled: bearer tokens are
 * compared by their SHA-256 (the spec stores only that) and the admin token in constant time; entry
 * signatures are verified against the namespace's key writers before anything is sequenced.
 *
 * Outcomes: no usable credential → 401 UNAUTHORIZED; a genuine credential that does not grant this
 * namespace (another namespace's writer, a read-only token, the admin token where writers are
 * named) → 403 FORBIDDEN; a forged signature by a named writer → 401 SIGNATURE_INVALID.
 */

export interface NamespaceRulesView {
  id: string;
  spec: NamespaceSpec;
}

interface Grant {
  namespace: string;
  writer: string;
  scopes: readonly WriterScope[];
}

/** Lowercase hex SHA-256 of a token: what a namespace spec records for a token writer. */
export function tokenSha256(token: string): string {
  return toHex(crypto.sha256(utf8Encode(token)));
}

/** The token of an `Authorization: Bearer <token>` header; undefined without the header. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer ([^\s]+)$/i.exec(header);
  if (!m) throw new RemembrancerError('UNAUTHORIZED', 'the Authorization header must be "Bearer <token>"');
  return m[1]!;
}

/** Every token writer of every namespace by token hash: tells "another tenant's token" (403) from "no such token" (401). */
export class WriterIndex {
  private readonly grants = new Map<string, Grant[]>();

  constructor(namespaces: Iterable<NamespaceRulesView>) {
    for (const ns of namespaces) {
      for (const w of ns.spec.writers) {
        if (!('token_sha256' in w)) continue;
        const list = this.grants.get(w.token_sha256) ?? [];
        list.push({ namespace: ns.id, writer: w.id, scopes: w.scopes });
        this.grants.set(w.token_sha256, list);
      }
    }
  }

  grantsOf(token: string): readonly Grant[] {
    return this.grants.get(tokenSha256(token)) ?? [];
  }
}

export class WriterAuthorization {
  private readonly admin: Uint8Array;

  constructor(
    adminToken: string,
    private readonly index: () => WriterIndex,
  ) {
    this.admin = utf8Encode(adminToken);
  }

  isAdmin(token: string | undefined): boolean {
    return token !== undefined && constantTimeEqual(utf8Encode(token), this.admin);
  }

  /** The token writer of `ns` that `token` is, with `scope`; throws 401/403 otherwise. */
  private tokenWriter(ns: NamespaceRulesView, token: string, scope: WriterScope): string {
    const grants = this.index().grantsOf(token);
    if (grants.length === 0) throw new RemembrancerError('UNAUTHORIZED', 'invalid bearer token');
    const here = grants.find((g) => g.namespace === ns.id);
    if (!here) throw new RemembrancerError('FORBIDDEN', `this token is not a writer of ${ns.id}`);
    if (!here.scopes.includes(scope))
      throw new RemembrancerError(
        'FORBIDDEN',
        `writer ${here.writer} of ${ns.id} may not ${scope} (scopes: ${here.scopes.join(', ')})`,
      );
    return here.writer;
  }

  /**
   * Authorizes appending `entries` to `ns` with the request's bearer token (if any): the token
   * (authorizeToken), then each entry (authorizeEntry; errors name the entry when there are several).
   */
  authorizeWrite(ns: NamespaceRulesView, token: string | undefined, entries: readonly JsonObject[]): void {
    this.authorizeToken(ns, token);
    entries.forEach((entry, i) => {
      try {
        this.authorizeEntry(ns, token, entry);
      } catch (e) {
        if (entries.length === 1 || !(e instanceof RemembrancerError)) throw e;
        throw new RemembrancerError(e.code, `entry ${i}: ${e.message}`, {
          cause: e,
          pointer: `/entries/${i}${e.pointer ?? ''}`,
        });
      }
    });
  }

  /** The bearer token, if given, must be a writer of `ns` (or the admin token where no writers are named). */
  authorizeToken(ns: NamespaceRulesView, token: string | undefined): void {
    if (token === undefined) return;
    if (!this.isAdmin(token)) {
      this.tokenWriter(ns, token, 'write');
      return;
    }
    if (ns.spec.writers.length > 0) {
      throw new RemembrancerError(
        'FORBIDDEN',
        `${ns.id} names its writers; the admin token does not write to it (use a writer token or signature)`,
      );
    }
  }

  /**
   * Signatures an entry carries are always checked, whatever the token: a stored entry never names
   * a writer who did not sign it. Without a token, the entry needs a valid signature by a key
   * writer of `ns`. Pointers are relative to the entry.
   */
  authorizeEntry(ns: NamespaceRulesView, token: string | undefined, entry: JsonObject): void {
    const sigs = documentSignatures(entry, 'SIGNATURE_INVALID');
    if (sigs === undefined) {
      if (token === undefined)
        throw new RemembrancerError(
          'UNAUTHORIZED',
          `writing to ${ns.id} needs a bearer token or an entry signed by one of its writers`,
        );
      return;
    }
    const message = signingBytes(entry);
    sigs.forEach((sig, j) => {
      const writer = ns.spec.writers.find((w): w is KeyWriter => w.id === sig.signer && 'ed25519' in w);
      if (!writer)
        throw new RemembrancerError('FORBIDDEN', `signer ${sig.signer} is not a key writer of ${ns.id}`, {
          pointer: `/signatures/${j}/signer`,
        });
      if (!verifyDocumentSignature(entry, sig, writer.ed25519, message)) {
        throw new RemembrancerError(
          'SIGNATURE_INVALID',
          `the signature of writer ${sig.signer} does not verify over the entry's JCS bytes`,
          { pointer: `/signatures/${j}/sig` },
        );
      }
    });
  }

  /**
   * Reading a private namespace needs the admin token or a token of it with the read or write
   * scope: a writer reads back what it wrote (its receipts), a read-only token is a reader.
   */
  authorizeRead(ns: NamespaceRulesView, token: string | undefined): void {
    if (ns.spec.visibility === 'public' || this.isAdmin(token)) return;
    if (token === undefined)
      throw new RemembrancerError('UNAUTHORIZED', `${ns.id} is private: reading it needs a read token`);
    const grants = this.index().grantsOf(token);
    if (grants.length === 0) throw new RemembrancerError('UNAUTHORIZED', 'invalid bearer token');
    if (!grants.some((g) => g.namespace === ns.id))
      throw new RemembrancerError('FORBIDDEN', `this token does not read ${ns.id}`);
  }

  /**
   * Reading a namespace's message inbox (GET /v1/ns/{ns}/inbox) needs the admin token or a token of
   * it with any scope, whatever its visibility: the inbox is the application's queue, and a public
   * namespace may hold messages from private ones, which no one else may read.
   */
  authorizeInboxRead(ns: NamespaceRulesView, token: string | undefined): void {
    if (this.isAdmin(token)) return;
    if (token === undefined)
      throw new RemembrancerError('UNAUTHORIZED', `reading the inbox of ${ns.id} needs a token of it`);
    const grants = this.index().grantsOf(token);
    if (grants.length === 0) throw new RemembrancerError('UNAUTHORIZED', 'invalid bearer token');
    if (!grants.some((g) => g.namespace === ns.id))
      throw new RemembrancerError('FORBIDDEN', `this token does not read the inbox of ${ns.id}`);
  }

  /** Whether the listing of namespaces may show `ns` to this caller. */
  mayList(ns: NamespaceRulesView, token: string | undefined): boolean {
    if (ns.spec.visibility === 'public' || this.isAdmin(token)) return true;
    return (
      token !== undefined &&
      this.index()
        .grantsOf(token)
        .some((g) => g.namespace === ns.id)
    );
  }
}
