/** @jsxRuntime automatic @jsxImportSource preact */
import { useDirectory } from '../api/node-directory.ts';
import type { EvidenceDocument } from '../api/types.ts';
import { ReadState, UpdatedAt } from '../components/read-state.tsx';
import { KeyValues } from '../components/key-values.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useLive } from '../live.ts';
import { formatUtc } from '../model/format.ts';

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function LogEquivocation({ doc }: { doc: EvidenceDocument }) {
  const cps = Array.isArray(doc['checkpoints']) ? (doc['checkpoints'] as unknown[]) : [];
  return (
    <>
      <KeyValues
        items={[
          ['Against log', <code>{text(doc['origin'])}</code>],
          [
            'Reason',
            doc['reason'] === 'same_size_different_root'
              ? 'two roots for one size'
              : 'a larger tree that does not extend the smaller',
          ],
          ['Detected by', text(doc['detected_by'])],
          ['Detected at', formatUtc(text(doc['detected_at']))],
        ]}
      />
      <div class="pair">
        {cps.map((cp, i) => (
          <figure key={i}>
            <figcaption>Checkpoint {i + 1}</figcaption>
            <pre class="note">{text(cp)}</pre>
          </figure>
        ))}
      </div>
    </>
  );
}

function EpochEquivocation({ doc }: { doc: EvidenceDocument }) {
  const statements = Array.isArray(doc['statements']) ? (doc['statements'] as unknown[]) : [];
  return (
    <>
      <KeyValues
        items={[
          ['Signer', text(doc['signer'])],
          ['Detected by', text(doc['detected_by'])],
          ['Detected at', formatUtc(text(doc['detected_at']))],
        ]}
      />
      <div class="pair">
        {statements.map((s, i) => (
          <figure key={i}>
            <figcaption>Epoch statement {i + 1}</figcaption>
            <pre class="note">{JSON.stringify(s, null, 1)}</pre>
          </figure>
        ))}
      </div>
    </>
  );
}

export function EvidencePage() {
  const dir = useDirectory();
  const live = useLive(
    () => dir.local.json<{ evidence: EvidenceDocument[] }>('/v1/federation/evidence'),
    'evidence',
    2000,
  );
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Evidence of misbehaviour</h1>
      <p>
        Signed documents proving that a log showed two histories, or that a node signed two roots for one anchoring
        epoch. Anyone can check them: both sides carry the offender's own signatures.
      </p>
      <ReadState
        live={live}
        what="the evidence"
        absent={{ code: 'NOT_FOUND', text: 'This node has not joined a federation: it keeps no evidence.' }}
      >
        {({ evidence }) =>
          evidence.length === 0 ? (
            <p>
              <StatusBadge health="ok" label="None" /> No equivocation has been detected or received.
            </p>
          ) : (
            <ol class="evidence">
              {evidence.map((doc, i) => (
                <li key={i} data-evidence-type={doc.type}>
                  <article class="card">
                    <h2>
                      <StatusBadge
                        health="bad"
                        label={doc.type === 'federation.epoch.equivocation' ? 'Epoch equivocation' : 'Log equivocation'}
                      />
                    </h2>
                    {doc.type === 'federation.epoch.equivocation' ? (
                      <EpochEquivocation doc={doc} />
                    ) : (
                      <LogEquivocation doc={doc} />
                    )}
                  </article>
                </li>
              ))}
            </ol>
          )
        }
      </ReadState>
      <UpdatedAt at={live.updatedAt} />
    </section>
  );
}
