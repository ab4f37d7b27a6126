import { createServer as createHttpServer } from 'node:http';
import net, { type AddressInfo, type Server } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAdminApp } from '../proxy/admin/admin-app.ts';
import { ProxyMetrics } from '../proxy/metrics/proxy-metrics.ts';
import { ProxyManager } from '../proxy/proxy-manager.ts';

// Per-fault series end to end: real sockets through real proxies, read back from /metrics.

/** What the TCP upstream answers to any bytes, then it closes: 12 bytes. */
const TCP_REPLY = 'hello, world';

let httpUpstream: Server;
let tcpUpstream: Server;
let manager: ProxyManager;
let app: FastifyInstance;
const clients = new Set<net.Socket>();

function addressOf(server: Server): string {
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeEach(async () => {
  httpUpstream = createHttpServer((_req, res) => res.end('clean answer'));
  tcpUpstream = net.createServer((socket) => {
    socket.once('data', () => socket.end(TCP_REPLY));
    socket.on('error', () => {});
  });
  await Promise.all(
    [httpUpstream, tcpUpstream].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))),
  );
  const metrics = new ProxyMetrics();
  manager = new ProxyManager({ metrics });
  metrics.attach(manager);
  app = buildAdminApp({ manager, metrics, version: '0.0.0', log: { info() {}, warn() {}, error() {} } });
});

afterEach(async () => {
  for (const c of clients) c.destroy();
  clients.clear();
  await app.close();
  await manager.close(0);
  (httpUpstream as ReturnType<typeof createHttpServer>).closeAllConnections();
  await Promise.all([httpUpstream, tcpUpstream].map((s) => new Promise((r) => s.close(r))));
});

async function post(url: string, payload: object): Promise<Record<string, unknown>> {
  const res = await app.inject({ method: 'POST', url, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** Writes `data` on a fresh connection and resolves with how many bytes came back before the peer closed it. */
function exchange(address: string, data: string): Promise<number> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    // write, not end: a half-closed HTTP client counts as gone (client_abort) before its answer.
    const socket = net.connect({ host: host!, port: Number(port) }, () => socket.write(data));
    clients.add(socket);
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.once('error', reject);
    socket.once('close', () => resolve(received));
  });
}

/** Scrapes /metrics until `line` (a whole sample) appears: records land when the proxy's sockets close. */
async function scrapeUntil(line: string): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const text = (await app.inject('/metrics')).body;
    if (text.split('\n').includes(line) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('per-fault metrics', () => {
  it("counts an HTTP abort fault's requests by outcome and its bytes, apart from clean requests", async () => {
    const view = await post('/faultline/proxies', {
      name: 'web',
      listen: '127.0.0.1:0',
      upstream: addressOf(httpUpstream),
      mode: 'http',
    });
    await post('/faultline/proxies/web/faults', {
      id: 'down',
      type: 'abort',
      direction: 'upstream',
      params: { status: 503, body: 'injected' },
      match: { path: '/faulted' },
    });
    const proxy = view.boundAddress as string;
    const body = 'hello world'; // 11 bytes, declared in content-length
    const request = (path: string) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nConnection: close\r\n\r\n${body}`;
    let faultedOut = 0;
    for (let i = 0; i < 3; i++) faultedOut += await exchange(proxy, request('/faulted'));
    for (let i = 0; i < 2; i++) await exchange(proxy, request('/clean'));

    const labels = 'proxy="web",fault="down",type="abort"';
    const text = await scrapeUntil(`faultline_fault_requests_total{${labels},outcome="http_5xx"} 3`);
    const lines = text.split('\n');
    expect(lines).toContain(`faultline_fault_requests_total{${labels},outcome="http_5xx"} 3`);
    expect(lines).toContain(`faultline_fault_requests_total{${labels},outcome="ok"} 0`);
    expect(lines).toContain(`faultline_fault_bytes_total{${labels},direction="in"} 33`);
    // Every byte the clients of faulted requests read, status line and headers included.
    expect(faultedOut).toBeGreaterThan(0);
    expect(lines).toContain(`faultline_fault_bytes_total{${labels},direction="out"} ${faultedOut}`);
    // The clean requests count for the proxy only.
    expect(lines).toContain('faultline_proxy_bytes_total{proxy="web",direction="in"} 55');
    expect(lines).toContain('faultline_proxy_requests_total{proxy="web",outcome="ok"} 2');
  });

  it('credits a TCP fault with the whole bytes of each connection it acted on', async () => {
    const view = await post('/faultline/proxies', {
      name: 'db',
      listen: '127.0.0.1:0',
      upstream: addressOf(tcpUpstream),
      mode: 'tcp',
    });
    await post('/faultline/proxies/db/faults', { id: 'lag', type: 'latency', params: { delayMs: 1 } });
    const proxy = view.boundAddress as string;
    expect(await exchange(proxy, 'ping!')).toBe(TCP_REPLY.length);
    expect(await exchange(proxy, 'ping!')).toBe(TCP_REPLY.length);

    const labels = 'proxy="db",fault="lag",type="latency"';
    const text = await scrapeUntil(`faultline_fault_requests_total{${labels},outcome="ok"} 2`);
    const lines = text.split('\n');
    expect(lines).toContain(`faultline_fault_requests_total{${labels},outcome="ok"} 2`);
    expect(lines).toContain(`faultline_fault_requests_total{${labels},outcome="reset"} 0`);
    expect(lines).toContain(`faultline_fault_bytes_total{${labels},direction="in"} 10`);
    expect(lines).toContain(`faultline_fault_bytes_total{${labels},direction="out"} 24`);
    expect(lines).toContain(`faultline_fault_request_duration_seconds_count{${labels}} 2`);
  });
});
