/**
 * Which API requests the console answers: its own pages' (same origin), a person's typed address or followed link
 * (a top-level GET), and programs that are not browsers (no Origin, no Sec-Fetch-Site: curl, the tests). A page on
 * another origin — another site, or another port of this machine — can make a browser send a request (a form, an
 * image, a no-cors fetch of text/plain) but not read the answer; without this check such a request would still run
 * a lake query or a Prometheus query. Browsers mark where a request comes from with `Origin` (on every POST and
 * every cross-origin fetch) and `Sec-Fetch-Site` (Fetch Metadata, on every request of current browsers); both are
 * headers a page cannot set.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Why the request is refused, or undefined when it may be answered. `host`: the Host header (already checked). */
export function crossOriginRefusal(
  headers: IncomingHttpHeaders,
  method: string,
  host: string,
): string | undefined {
  const own = `http://${host}`;
  const origin = headers.origin;
  if (origin !== undefined && origin !== own) {
    return `refused: a request from ${origin}; the console's API answers its own pages (${own}) only`;
  }
  const site = headers['sec-fetch-site'];
  if (site === undefined || site === 'same-origin' || site === 'none') return undefined;
  // A link to a JSON address followed from elsewhere is the person's own navigation: it only reads, and they see it.
  if (
    method === 'GET' &&
    headers['sec-fetch-mode'] === 'navigate' &&
    headers['sec-fetch-dest'] === 'document'
  )
    return undefined;
  return `refused: a ${site} request; the console's API answers its own pages (${own}) only`;
}

/** A body the API reads must be declared JSON: a form or a no-cors fetch can only send text/plain or form types. */
export function isJsonBody(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json';
}
