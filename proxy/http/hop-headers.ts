import type { IncomingHttpHeaders } from 'node:http';

/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1), so a proxy must not
 * forward them. `expect` is handled by node:http itself (it answers 100-continue) and undici
 * refuses it, so it goes too.
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

function isHop(lowerName: string, connectionTokens: ReadonlySet<string> | undefined): boolean {
  return (
    HOP_BY_HOP.has(lowerName) || lowerName.startsWith('proxy-') || connectionTokens?.has(lowerName) === true
  );
}

/** Names listed in a `Connection` header are hop-by-hop as well. */
function connectionTokens(value: string | undefined): ReadonlySet<string> | undefined {
  if (!value) return undefined;
  const tokens = value
    .toLowerCase()
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t && t !== 'close' && t !== 'keep-alive' && t !== 'upgrade');
  return tokens.length ? new Set(tokens) : undefined;
}

/**
 * The request headers to forward, as undici's flat `[name, value, ...]` list, with hop-by-hop
 * headers removed and the client address appended to `x-forwarded-for`.
 */
export function forwardRequestHeaders(
  rawHeaders: readonly string[],
  connection: string | undefined,
  clientAddress: string | undefined,
): string[] {
  const tokens = connectionTokens(connection);
  const out: string[] = [];
  let forwardedFor: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (isHop(lower, tokens)) continue;
    if (lower === 'x-forwarded-for') {
      forwardedFor =
        forwardedFor === undefined ? rawHeaders[i + 1]! : `${forwardedFor}, ${rawHeaders[i + 1]}`;
      continue;
    }
    out.push(name, rawHeaders[i + 1]!);
  }
  if (clientAddress)
    forwardedFor = forwardedFor === undefined ? clientAddress : `${forwardedFor}, ${clientAddress}`;
  if (forwardedFor !== undefined) out.push('x-forwarded-for', forwardedFor);
  return out;
}

/** Removes hop-by-hop headers from an upstream response head, in place; returns it. */
export function stripResponseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const conn = headers.connection;
  const tokens = connectionTokens(Array.isArray(conn) ? conn.join(',') : conn);
  for (const name of Object.keys(headers)) if (isHop(name, tokens)) delete headers[name];
  return headers;
}
