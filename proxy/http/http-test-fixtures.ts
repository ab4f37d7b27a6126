import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseHostPort } from '../../protocol/host-port.ts';

/** What the echo upstream saw, as JSON in its response body. */
export interface Echo {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface TestUpstream {
  server: http.Server;
  address: string;
  /** Requests seen so far. */
  seen: number;
  close(): Promise<void>;
}

/**
 * A real node:http upstream on 127.0.0.1:0 for tests. `/big?bytes=N` answers N bytes,
 * `/status/CODE` answers that status, `/slow?ms=N` answers after N ms; everything else echoes
 * method, url, headers and body as JSON.
 */
export async function startTestUpstream(): Promise<TestUpstream> {
  const state = { seen: 0 };
  const server = http.createServer((req, res) => {
    state.seen++;
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (url.pathname === '/big') {
        res.end(Buffer.alloc(Number(url.searchParams.get('bytes') ?? 0), 'b'));
        return;
      }
      if (url.pathname.startsWith('/status/')) {
        res.statusCode = Number(url.pathname.slice(8));
        res.end('status');
        return;
      }
      const echo: Echo = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      const send = () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(echo));
      };
      const ms = url.pathname === '/slow' ? Number(url.searchParams.get('ms') ?? 0) : 0;
      if (ms > 0) setTimeout(send, ms);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    address: `127.0.0.1:${port}`,
    get seen() {
      return state.seen;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Request start to end of body, ms. */
  ms: number;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  agent?: http.Agent | false;
  /** Give up after this long, ms (the promise rejects with `cap`). Default 5000. */
  capMs?: number;
}

/** One HTTP request to `address` with node:http; rejects on a socket error (reset, close). */
export function send(address: string, path: string, opts: SendOptions = {}): Promise<Reply> {
  const { host, port } = parseHostPort(address);
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({
      host,
      port,
      path,
      method: opts.method ?? 'GET',
      headers: opts.headers,
      agent: opts.agent ?? false,
    });
    const cap = setTimeout(() => req.destroy(new Error('cap')), opts.capMs ?? 5_000);
    req.on('error', (err) => {
      clearTimeout(cap);
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => {
        clearTimeout(cap);
        reject(err);
      });
      res.on('end', () => {
        clearTimeout(cap);
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          ms: performance.now() - start,
        });
      });
    });
    req.end(opts.body);
  });
}

/** Sorted middle value. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
