/** @jsxRuntime automatic @jsxImportSource preact */
import { Link } from '../components/link.tsx';
import { routePath } from '../router.ts';

/** A node name the registry does not know: the explorer reads only registry endpoints. */
export function UnknownNode({ node }: { node: string }) {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Unknown node</h1>
      <p>
        <code>{node}</code> is not this node nor a peer of its federation registry, so the explorer does not read it.
        See <Link href={routePath({ page: 'federation' })}>the federation</Link>.
      </p>
    </section>
  );
}
