/** @jsxRuntime automatic @jsxImportSource preact */
import { useState } from 'preact/hooks';
import { ApiError } from '../api/api-error.ts';
import { useDirectory } from '../api/node-directory.ts';
import { nsPath } from '../api/node-client.ts';
import { StatusBadge } from '../components/status-badge.tsx';
import type { AnchorCheckResult, AnchorSection } from '../verify/anchor-checks.ts';
import { checkReceipt, type CheckRow } from '../verify/receipt-checks.ts';
import { verifyReceiptText, type ReceiptVerdict } from '../verify/receipt-verdict.ts';

/** Reads a dropped or chosen file as text (receipts and policies are small JSON and text files). */
async function fileText(files: FileList | null | undefined): Promise<string | undefined> {
  const f = files?.[0];
  return f ? await f.text() : undefined;
}

/** One check per item, as `remembrancer verify` prints them: result, name, code, and why. */
function CheckList({ rows }: { rows: readonly CheckRow[] }) {
  return (
    <ol class="checks">
      {rows.map((r) => (
        <li key={r.name} data-check={r.name} data-ok={String(r.ok)}>
          <StatusBadge
            health={r.ok ? 'ok' : r.ok === false ? 'bad' : 'unknown'}
            label={r.ok ? 'Pass' : r.ok === false ? 'Fail' : 'Not run'}
          />{' '}
          <strong>{r.name}</strong>
          {r.code && (
            <>
              {' '}
              <code>{r.code}</code>
            </>
          )}
          {r.detail && <> — {r.detail}</>}
        </li>
      ))}
    </ol>
  );
}

function Anchor({ a }: { a: AnchorSection }) {
  const where = a.target === undefined ? '' : `: ${a.target}${a.epoch === undefined ? '' : `, epoch ${a.epoch}`}`;
  return (
    <section aria-labelledby={`anchor-${a.index}`} data-anchor={a.index} data-ok={String(a.ok)}>
      <h4 id={`anchor-${a.index}`}>
        <StatusBadge health={a.ok ? 'ok' : 'bad'} label={a.ok ? 'Verified' : 'NOT verified'} /> Anchor {a.index}
        {where}
      </h4>
      <CheckList rows={a.rows} />
    </section>
  );
}

function Anchors({ result }: { result: AnchorCheckResult }) {
  if (result.count === 0 && result.trust.length === 0 && result.requirements.length === 0) {
    return <p>The receipt has no anchors: its checks end with the receipt's own.</p>;
  }
  return (
    <section aria-labelledby="anchors-title" class="anchors">
      <h3 id="anchors-title">Anchors ({result.count})</h3>
      {result.trust.length > 0 && (
        <>
          <p>Trust for the anchors, as given above:</p>
          <CheckList rows={result.trust} />
        </>
      )}
      {result.anchors.map((a) => (
        <Anchor key={a.index} a={a} />
      ))}
      {result.requirements.length > 0 && <CheckList rows={result.requirements} />}
    </section>
  );
}

/** The verdict, the receipt's checks, then the anchors' (exported for the component test). */
export function Verdict({ result }: { result: ReceiptVerdict }) {
  return (
    <section aria-labelledby="verdict" class="verdict" data-verdict={result.ok ? 'verified' : 'failed'}>
      <h2 id="verdict">
        {result.ok ? (
          <StatusBadge health="ok" label="Receipt verified" />
        ) : (
          <StatusBadge health="bad" label="Receipt NOT verified" />
        )}
      </h2>
      <h3>The receipt</h3>
      <CheckList rows={result.receipt.rows} />
      {result.anchors && <Anchors result={result.anchors} />}
    </section>
  );
}

/** A labelled text area that also takes a chosen file (receipts, registries, certificates are small text files). */
function TextInput(props: {
  id: string;
  label: string;
  value: string;
  rows: number;
  accept: string;
  onText: (text: string) => void;
}) {
  return (
    <>
      <label for={props.id}>{props.label}</label>
      <textarea
        id={props.id}
        name={props.id}
        rows={props.rows}
        spellcheck={false}
        value={props.value}
        onInput={(e) => props.onText((e.target as HTMLTextAreaElement).value)}
      />
      <input
        type="file"
        accept={props.accept}
        aria-label={`Choose a file: ${props.label}`}
        onChange={(e) =>
          void fileText((e.target as HTMLInputElement).files).then((t) => t !== undefined && props.onText(t))
        }
      />
    </>
  );
}

export function VerifyPage() {
  const dir = useDirectory();
  const [receipt, setReceipt] = useState('');
  const [policy, setPolicy] = useState('');
  const [registry, setRegistry] = useState('');
  const [tsaCa, setTsaCa] = useState('');
  const [requiredTargets, setRequiredTargets] = useState('');
  const [note, setNote] = useState<string | undefined>();
  const [result, setResult] = useState<ReceiptVerdict | undefined>();
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const nodeName = dir.self?.name ?? 'this node';

  const failure = (e: unknown) => (e instanceof ApiError ? `${e.code} ${e.message}` : String(e));

  const fetchPolicy = async () => {
    const ns = checkReceipt(receipt, '').namespace;
    if (!ns) {
      setNote('Paste a receipt first: its namespace names the policy to fetch.');
      return;
    }
    try {
      const { text } = await dir.local.text(nsPath(ns, '/policy'));
      setPolicy(text);
      setNote(
        `Filled in the policy ${nodeName} serves for ${ns}. Check its keys: trusting it means trusting this node.`,
      );
    } catch (e) {
      setNote(`Cannot fetch the policy of ${ns}: ${failure(e)}`);
    }
  };

  const fetchRegistry = async () => {
    try {
      const all = await dir.local.json<unknown>('/v1/federation/registry?all=1');
      setRegistry(JSON.stringify(all, null, 2));
      setNote(
        `Filled in the registry versions ${nodeName} serves. Check the federation and its keys: trusting them means trusting this node.`,
      );
    } catch (e) {
      setNote(`Cannot fetch the registry: ${failure(e)}`);
    }
  };

  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const text = await fileText(e.dataTransfer?.files);
    if (text !== undefined) setReceipt(text);
  };

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Verify a receipt</h1>
      <p>
        Checked here, in your browser, by the same code as <code>remembrancer verify</code>: nothing is sent anywhere.
        Trust comes from what you give: a C2SP tlog-policy naming the log keys and the witness quorum and, for an
        anchored receipt, the federation registry and the certificates of the timestamp authorities.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          void verifyReceiptText(receipt, policy, { registry, tsaCa, requiredTargets })
            .then(setResult)
            .finally(() => setBusy(false));
        }}
      >
        <div
          class={`drop ${dragging ? 'dragging' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => void onDrop(e)}
        >
          <label for="receipt">Receipt (JSON): paste it, drop a file here, or choose one</label>
          <textarea
            id="receipt"
            name="receipt"
            rows={10}
            spellcheck={false}
            value={receipt}
            onInput={(e) => setReceipt((e.target as HTMLTextAreaElement).value)}
          />
          <input
            type="file"
            accept=".json,application/json"
            aria-label="Choose a receipt file"
            onChange={(e) =>
              void fileText((e.target as HTMLInputElement).files).then((t) => t !== undefined && setReceipt(t))
            }
          />
        </div>
        <label for="policy">Policy (C2SP tlog-policy text)</label>
        <textarea
          id="policy"
          name="policy"
          rows={6}
          spellcheck={false}
          value={policy}
          onInput={(e) => setPolicy((e.target as HTMLTextAreaElement).value)}
        />
        <div class="actions">
          <button type="button" onClick={() => void fetchPolicy()}>
            Use this node's policy for the receipt's namespace
          </button>
        </div>
        <fieldset>
          <legend>Anchors (for a receipt with anchors)</legend>
          <TextInput
            id="registry"
            label="Federation registry (JSON: one version, or the versions GET /v1/federation/registry?all=1 serves)"
            rows={6}
            accept=".json,application/json"
            value={registry}
            onText={setRegistry}
          />
          <div class="actions">
            <button type="button" onClick={() => void fetchRegistry()}>
              Use the registry this node serves
            </button>
          </div>
          <TextInput
            id="tsa-ca"
            label="TSA CA certificates (PEM), for RFC 3161 anchors"
            rows={4}
            accept=".pem,.crt,application/x-pem-file"
            value={tsaCa}
            onText={setTsaCa}
          />
          <p class="note-text">
            Nodes serve no TSA certificate: take it from your timestamp authority (a{' '}
            <code>remembrancer federation up</code> run writes <code>tsa-ca.pem</code> in its data directory).
          </p>
          <label for="required-targets">Required targets (optional, e.g. rfc3161:tsa eip155:1)</label>
          <input
            id="required-targets"
            name="required-targets"
            type="text"
            spellcheck={false}
            value={requiredTargets}
            onInput={(e) => setRequiredTargets((e.target as HTMLInputElement).value)}
          />
          <p class="note-text">
            Chain anchors (<code>eip155</code>, <code>btc</code>) are checked offline: the transaction is in the block
            whose header the evidence holds and carries the epoch root. Whether that block is on the chain, and how
            deep, needs a node of that chain, which this page does not ask (<code>remembrancer verify --evm-rpc</code>{' '}
            or <code>--btc-rpc</code> does).
          </p>
        </fieldset>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Verify
          </button>
        </div>
        {note && <p class="note-text">{note}</p>}
      </form>
      {busy && <p aria-live="polite">Verifying…</p>}
      {result && !busy && <Verdict result={result} />}
    </section>
  );
}
