import { useEffect, useState } from 'preact/hooks';

/** Where every node serves the explorer; routes live in the path below it, so links can be shared. */
export const BASE = '/explorer';

export type Route =
  | { page: 'federation' }
  | { page: 'node'; node: string }
  | { page: 'namespace'; node: string; ns: string }
  | { page: 'anchoring' }
  | { page: 'messages' }
  | { page: 'evidence' }
  | { page: 'verify' }
  | { page: 'not-found'; path: string };

const SIMPLE = ['anchoring', 'messages', 'evidence', 'verify'] as const;

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The route of a URL path (with or without the base); anything unknown is a not-found page, never an exception. */
export function parseRoute(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = rest.split('/').filter((p) => p !== '');
  if (parts.length === 0) return { page: 'federation' };
  const [head, ...tail] = parts;
  if (tail.length === 0 && (SIMPLE as readonly string[]).includes(head!))
    return { page: head as (typeof SIMPLE)[number] };
  if (head === 'nodes' && tail.length >= 1) {
    const node = decode(tail[0]!);
    if (node !== undefined && tail.length === 1) return { page: 'node', node };
    const ns = tail.length === 3 && tail[1] === 'ns' ? decode(tail[2]!) : undefined;
    if (node !== undefined && ns !== undefined) return { page: 'namespace', node, ns };
  }
  return { page: 'not-found', path: pathname };
}

/** The URL path of a route (with the base): the inverse of parseRoute. */
export function routePath(route: Route): string {
  switch (route.page) {
    case 'federation':
      return `${BASE}/`;
    case 'node':
      return `${BASE}/nodes/${encodeURIComponent(route.node)}`;
    case 'namespace':
      return `${BASE}/nodes/${encodeURIComponent(route.node)}/ns/${encodeURIComponent(route.ns)}`;
    case 'not-found':
      return route.path;
    default:
      return `${BASE}/${route.page}`;
  }
}

const listeners = new Set<() => void>();

/** Goes to `href` (a path under the base, with its query) without reloading the page. */
export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  for (const l of listeners) l();
  window.scrollTo(0, 0);
}

export interface Location {
  route: Route;
  query: URLSearchParams;
}

function current(): Location {
  return { route: parseRoute(location.pathname), query: new URLSearchParams(location.search) };
}

/** The current route and query, updated on navigation and on the browser's back and forward. */
export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return loc;
}
