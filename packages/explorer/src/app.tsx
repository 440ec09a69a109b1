/** @jsxRuntime automatic @jsxImportSource preact */
import { lazy, Suspense } from 'preact/compat';
import { DirectoryContext, NodeDirectory } from './api/node-directory.ts';
import { NodeClient } from './api/node-client.ts';
import type { NodeInfo, Registry } from './api/types.ts';
import { Link } from './components/link.tsx';
import { useLive } from './live.ts';
import { AnchoringPage } from './pages/anchoring-page.tsx';
import { EvidencePage } from './pages/evidence-page.tsx';
import { FederationPage } from './pages/federation-page.tsx';
import { MessagesPage } from './pages/messages-page.tsx';
import { NamespacePage } from './pages/namespace-page.tsx';
import { NodePage } from './pages/node-page.tsx';
import { routePath, useLocation, type Route } from './router.ts';
import { ApiError } from './api/api-error.ts';

// The Verify page carries @vaultmesh/core's verification code: loaded when opened, so the first
// load of every other page stays small.
const VerifyPage = lazy(() => import('./pages/verify-page.tsx').then((m) => ({ default: m.VerifyPage })));

const local = new NodeClient('');

/** This node and its registry, re-read every 10 s (a registry change adds or moves peers). */
async function readDirectory(): Promise<NodeDirectory> {
  const self = await local.json<NodeInfo>('/v1/node');
  let registry: Registry | undefined;
  try {
    registry = await local.json<Registry>('/v1/federation/registry');
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'NOT_FOUND')) throw e;
  }
  return new NodeDirectory(self, registry, local);
}

function Page({ route, query }: { route: Route; query: URLSearchParams }) {
  switch (route.page) {
    case 'federation':
      return <FederationPage />;
    case 'node':
      return <NodePage node={route.node} />;
    case 'namespace':
      return <NamespacePage node={route.node} ns={route.ns} query={query} />;
    case 'anchoring':
      return <AnchoringPage />;
    case 'messages':
      return <MessagesPage />;
    case 'evidence':
      return <EvidencePage />;
    case 'verify':
      return (
        <Suspense fallback={<p aria-busy="true">Loading the verifier…</p>}>
          <VerifyPage />
        </Suspense>
      );
    case 'not-found':
      return (
        <section aria-labelledby="page-title">
          <h1 id="page-title">No such page</h1>
          <p>
            Nothing is at <code>{route.path}</code>. Start from{' '}
            <Link href={routePath({ page: 'federation' })}>the federation</Link>.
          </p>
        </section>
      );
  }
}

const NAV: { label: string; route: Route; match: (r: Route) => boolean }[] = [
  { label: 'Federation', route: { page: 'federation' }, match: (r) => r.page === 'federation' },
  { label: 'Anchoring', route: { page: 'anchoring' }, match: (r) => r.page === 'anchoring' },
  { label: 'Messages', route: { page: 'messages' }, match: (r) => r.page === 'messages' },
  { label: 'Evidence', route: { page: 'evidence' }, match: (r) => r.page === 'evidence' },
  { label: 'Verify', route: { page: 'verify' }, match: (r) => r.page === 'verify' },
];

export function App() {
  const { route, query } = useLocation();
  const dir = useLive(readDirectory, 'directory', 10_000);
  const directory = dir.data ?? new NodeDirectory(undefined, undefined, local);
  const selfName = directory.self?.name;
  return (
    <DirectoryContext.Provider value={directory}>
      <a class="skip" href="#main">
        Skip to the content
      </a>
      <header class="top">
        <p class="brand">
          <strong>Remembrancer explorer</strong>
          {selfName && (
            <>
              {' '}
              served by <Link href={routePath({ page: 'node', node: selfName })}>{selfName}</Link>
            </>
          )}
        </p>
        <nav aria-label="Pages">
          <ul>
            {NAV.map((n) => (
              <li key={n.label}>
                <Link href={routePath(n.route)} current={n.match(route)}>
                  {n.label}
                </Link>
              </li>
            ))}
            {selfName && (
              <li>
                <Link
                  href={routePath({ page: 'node', node: selfName })}
                  current={(route.page === 'node' || route.page === 'namespace') && route.node === selfName}
                >
                  This node
                </Link>
              </li>
            )}
          </ul>
        </nav>
      </header>
      {dir.error && !dir.data && (
        <p role="alert" class="read-error">
          Cannot read this node ({dir.error.code}): {dir.error.message}
        </p>
      )}
      <main id="main" tabIndex={-1}>
        {/* Pages name nodes through the directory: they wait for it rather than render "unknown node". */}
        {dir.data ? <Page route={route} query={query} /> : !dir.error && <p aria-busy="true">Reading this node…</p>}
      </main>
    </DirectoryContext.Provider>
  );
}
