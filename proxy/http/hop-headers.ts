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

/** What the header pass learned about the request body, written into the caller's object. */
export interface RequestBodyInfo {
  /** True when the request has a body (non-zero `content-length`, or `transfer-encoding`). */
  hasBody: boolean;
  /** Declared `content-length` in bytes; -1 when absent. */
  contentLength: number;
}

const CONNECTION_LENGTH = 'connection'.length;

/**
 * The request headers to forward, as undici's flat `[name, value, ...]` list, with hop-by-hop
 * headers removed and the client address appended to `x-forwarded-for`. Works on `rawHeaders`
 * so the clean path never builds node's lazy `req.headers` object.
 */
export function forwardRequestHeaders(
  rawHeaders: readonly string[],
  clientAddress: string | undefined,
  info: RequestBodyInfo,
): string[] {
  let connection: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === CONNECTION_LENGTH && name.toLowerCase() === 'connection') {
      connection = connection === undefined ? rawHeaders[i + 1]! : `${connection},${rawHeaders[i + 1]}`;
    }
  }
  const tokens = connectionTokens(connection);
  const out: string[] = [];
  let forwardedFor: string | undefined;
  info.hasBody = false;
  info.contentLength = -1;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (lower === 'transfer-encoding') info.hasBody = true;
    if (isHop(lower, tokens)) continue;
    const value = rawHeaders[i + 1]!;
    if (lower === 'x-forwarded-for') {
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      continue;
    }
    if (lower === 'content-length') {
      info.contentLength = Number(value);
      if (info.contentLength > 0) info.hasBody = true;
    }
    out.push(name, value);
  }
  if (clientAddress)
    forwardedFor = forwardedFor === undefined ? clientAddress : `${forwardedFor}, ${clientAddress}`;
  if (forwardedFor !== undefined) out.push('x-forwarded-for', forwardedFor);
  return out;
}

/**
 * The upstream response head's headers to send on, as a flat `[name, value, ...]` list (what
 * `writeHead` takes), without hop-by-hop headers; a repeated header (set-cookie) gives one pair per
 * value. A list and not the object with names deleted: `delete` turns an object into a hash table,
 * several hundred bytes that a response held by a downstream delay keeps for the whole delay.
 */
export function forwardResponseHeaders(headers: IncomingHttpHeaders): string[] {
  const conn = headers.connection;
  const tokens = connectionTokens(Array.isArray(conn) ? conn.join(',') : conn);
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || isHop(name, tokens)) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  return out;
}
