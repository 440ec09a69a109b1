/** @jsxRuntime automatic @jsxImportSource preact */
import { useState } from 'preact/hooks';
import { ApiError } from '../api/api-error.ts';
import { useDirectory } from '../api/node-directory.ts';
import { nsPath } from '../api/node-client.ts';
import { StatusBadge } from '../components/status-badge.tsx';
import { checkReceipt, type ReceiptCheckResult } from '../verify/receipt-checks.ts';

/** Reads a dropped or chosen file as text (receipts and policies are small JSON and text files). */
async function fileText(files: FileList | null | undefined): Promise<string | undefined> {
  const f = files?.[0];
  return f ? await f.text() : undefined;
}

function Checks({ result }: { result: ReceiptCheckResult }) {
  return (
    <section aria-labelledby="verdict" class="verdict" data-verdict={result.ok ? 'verified' : 'failed'}>
      <h2 id="verdict">
        {result.ok ? (
          <StatusBadge health="ok" label="Receipt verified" />
        ) : (
          <StatusBadge health="bad" label="Receipt NOT verified" />
        )}
      </h2>
      <ol class="checks">
        {result.rows.map((r) => (
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
    </section>
  );
}

export function VerifyPage() {
  const dir = useDirectory();
  const [receipt, setReceipt] = useState('');
  const [policy, setPolicy] = useState('');
  const [note, setNote] = useState<string | undefined>();
  const [result, setResult] = useState<ReceiptCheckResult | undefined>();
  const [dragging, setDragging] = useState(false);

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
        `Filled in the policy ${dir.self?.name ?? 'this node'} serves for ${ns}. Check its keys: trusting it means trusting this node.`,
      );
    } catch (e) {
      setNote(`Cannot fetch the policy of ${ns}: ${e instanceof ApiError ? `${e.code} ${e.message}` : String(e)}`);
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
        Trust comes from the policy you give: a C2SP tlog-policy naming the log keys and the witness quorum.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setResult(checkReceipt(receipt, policy));
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
          <button type="submit">Verify</button>
        </div>
        {note && <p class="note-text">{note}</p>}
      </form>
      {result && <Checks result={result} />}
    </section>
  );
}
