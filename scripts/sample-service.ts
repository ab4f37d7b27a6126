import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

/** Options of the bundled sample service. */
export interface SampleServiceOptions {
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind; 0 picks a free one. Default 0. */
  port?: number;
  /** Delay before `GET /checkout` answers, ms. Default 0. */
  baseDelayMs?: number;
}

export interface SampleService {
  /** Base URL, e.g. `http://127.0.0.1:18080`. */
  url: string;
  port: number;
  /** Stops listening and closes every connection, idle or not. */
  close(): Promise<void>;
}

/** Cap on `GET /bytes?n=` (bytes): large enough for bandwidth faults, small enough to be harmless. */
const MAX_BYTES = 64 * 1024 * 1024;
/** Cap on a `POST /echo` body (bytes). */
const MAX_ECHO_BYTES = 16 * 1024 * 1024;
/** Keep-alive idle timeout (ms): longer than any load generator's pause between requests. */
const KEEP_ALIVE_MS = 65_000;

const OK_BODY = Buffer.from('ok\n');
const FILL = Buffer.alloc(64 * 1024, 'x');

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { code, message, details: {} });
}

function sendBytes(res: ServerResponse, n: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
  let left = n;
  // Write in chunks with backpressure so a large n never sits in memory at once.
  const pump = (): void => {
    while (left > 0) {
      const chunk = left >= FILL.length ? FILL : FILL.subarray(0, left);
      left -= chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function echo(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_ECHO_BYTES) {
      sendError(res, 413, 'INVALID_INPUT', `body over ${MAX_ECHO_BYTES} bytes`);
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (res.headersSent) return;
    const body = Buffer.concat(chunks);
    res.writeHead(200, {
      'content-type': req.headers['content-type'] ?? 'application/octet-stream',
      'content-length': body.length,
    });
    res.end(body);
  });
}

type Route = (req: IncomingMessage, res: ServerResponse, ctx: { url: URL; baseDelayMs: number }) => void;

/** Exact-path routes by `METHOD path`; `/status/:code` is matched apart because it has a parameter. */
const ROUTES: Record<string, Route> = {
  'GET /': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': OK_BODY.length });
    res.end(OK_BODY);
  },
  'GET /health': (_req, res) => sendJson(res, 200, { status: 'ok' }),
  'GET /checkout': (_req, res, { baseDelayMs }) => {
    const answer = (): void => sendJson(res, 200, { ok: true, orderId: randomUUID() });
    if (baseDelayMs > 0) setTimeout(answer, baseDelayMs);
    else answer();
  },
  'GET /bytes': (_req, res, { url }) => {
    const n = Number(url.searchParams.get('n') ?? '0');
    if (!Number.isInteger(n) || n < 0 || n > MAX_BYTES) {
      sendError(res, 400, 'INVALID_INPUT', `n must be an integer 0-${MAX_BYTES}`);
    } else sendBytes(res, n);
  },
  'POST /echo': echo,
};

function handle(req: IncomingMessage, res: ServerResponse, baseDelayMs: number): void {
  const url = new URL(req.url ?? '/', 'http://sample');
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  const route = ROUTES[`${method} ${url.pathname}`];
  if (route) {
    route(req, res, { url, baseDelayMs });
    return;
  }
  const status = method === 'GET' ? /^\/status\/(\d{3})$/.exec(url.pathname) : null;
  if (status) {
    const code = Number(status[1]);
    if (code < 200 || code > 599) sendError(res, 400, 'INVALID_INPUT', 'status must be 200-599');
    else sendJson(res, code, { status: code });
    return;
  }
  const known = Object.keys(ROUTES).some((r) => r.endsWith(` ${url.pathname}`));
  if (known) sendError(res, 405, 'INVALID_INPUT', `${req.method} ${url.pathname} is not supported`);
  else sendError(res, 404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`);
}

/**
 * Starts the bundled sample service that demos, tests and benches put the proxy in front of.
 * Routes: `GET /` ("ok"), `GET /checkout` (JSON after `baseDelayMs`), `GET /health`,
 * `GET /bytes?n=N`, `POST /echo`, `GET /status/:code`.
 */
export async function startSampleService(opts: SampleServiceOptions = {}): Promise<SampleService> {
  const host = opts.host ?? '127.0.0.1';
  const baseDelayMs = opts.baseDelayMs ?? 0;
  const server = createServer({ keepAlive: true, keepAliveTimeout: KEEP_ALIVE_MS }, (req, res) =>
    handle(req, res, baseDelayMs),
  );
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '18080' },
      'delay-ms': { type: 'string', default: '0' },
    },
  });
  const service = await startSampleService({
    host: values.host,
    port: Number(values.port),
    baseDelayMs: Number(values['delay-ms']),
  });
  console.log(`sample service listening on ${service.url}`);
  const stop = (): void => {
    void service.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.main) await main();
