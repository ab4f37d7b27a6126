import http from 'node:http';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseHostPort } from '../protocol/host-port.ts';
import { ProxyManager } from '../proxy/proxy-manager.ts';
import { connectTo, type LoopbackServer, type Reads, startServer } from '../proxy/tcp/loopback-fixtures.ts';

// ProxyManager promises that adding, changing or removing one proxy never touches another's
// sockets, and that a proxy's own open connections survive a change of its upstream (TCP: new
// connections go to the new one; HTTP: new requests do) or of its listen address (the old server
// stops accepting, its connections run on). Each check below goes over the very same client
// sockets: same local port, no 'close' seen, data both ways.

/** A keep-alive HTTP/1.1 client on one raw socket, so a reconnect cannot go unnoticed. */
interface RawHttpClient {
  socket: net.Socket;
  closed: () => boolean;
  /** POSTs `body` and resolves with the answer (the upstreams below always send content-length). */
  post(body: string): Promise<{ status: number; body: string }>;
}

async function rawHttpClient(address: string): Promise<RawHttpClient> {
  const socket = net.connect({ ...parseHostPort(address), noDelay: true });
  socket.on('error', () => {});
  let closed = false;
  let waiter:
    | { resolve: (answer: { status: number; body: string }) => void; reject: (e: Error) => void }
    | undefined;
  socket.once('close', () => {
    closed = true;
    waiter?.reject(new Error('the connection closed before the answer'));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    const headEnd = buffer.indexOf('\r\n\r\n');
    if (headEnd < 0 || !waiter) return;
    const head = buffer.subarray(0, headEnd).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (buffer.length < headEnd + 4 + length) return;
    const body = buffer.subarray(headEnd + 4, headEnd + 4 + length).toString();
    buffer = buffer.subarray(headEnd + 4 + length);
    const { resolve } = waiter;
    waiter = undefined;
    resolve({ status: Number(head.split(' ')[1]), body });
  });
  return {
    socket,
    closed: () => closed,
    post(body) {
      return new Promise((resolve, reject) => {
        if (closed) return reject(new Error('the connection is closed'));
        waiter = { resolve, reject };
        socket.write(
          `POST /echo HTTP/1.1\r\nhost: test\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      });
    },
  };
}

/** An HTTP upstream that answers `NAME:BODY`, so an answer tells which upstream served it. */
async function namedHttpUpstream(name: string): Promise<{ address: string; server: http.Server }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const out = `${name}:${Buffer.concat(chunks).toString()}`;
      res.setHeader('content-length', Buffer.byteLength(out));
      res.end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, server };
}

/** A port free a moment ago on 127.0.0.1, for a `listen` change that must rebind. */
async function freeAddress(): Promise<string> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return `127.0.0.1:${port}`;
}

let manager: ProxyManager;
const cleanups: (() => unknown)[] = [];
/** Echoes bytes as they are. */
let echo: LoopbackServer;
/** Echoes bytes upper-cased, so a stream moved to it would show. */
let shout: LoopbackServer;
let web1: { address: string; server: http.Server };
let web2: { address: string; server: http.Server };
let tcpClient: Reads;
let tcpClosed: boolean;
let tcpPort: number;
let httpClient: RawHttpClient;
let httpPort: number;

beforeEach(async () => {
  manager = new ProxyManager();
  cleanups.push(() => manager.close(0));
  echo = await startServer((s) => s.pipe(s));
  shout = await startServer((s) => s.on('data', (d: Buffer) => s.write(d.toString().toUpperCase())));
  cleanups.push(
    () => echo.close(),
    () => shout.close(),
  );
  web1 = await namedHttpUpstream('web1');
  web2 = await namedHttpUpstream('web2');
  for (const { server } of [web1, web2]) {
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    });
  }
  await manager.add({ name: 'a', listen: '127.0.0.1:0', upstream: echo.address, mode: 'tcp' });
  // A long client idle limit: the checks must not race the proxy closing an idle connection.
  await manager.add({
    name: 'b',
    listen: '127.0.0.1:0',
    upstream: web1.address,
    mode: 'http',
    timeouts: { clientIdleMs: 60_000 },
  });
  tcpClient = await connectTo(manager.get('a').boundAddress!);
  cleanups.push(() => tcpClient.socket.destroy());
  tcpClosed = false;
  tcpClient.socket.once('close', () => {
    tcpClosed = true;
  });
  tcpPort = tcpClient.socket.localPort!;
  httpClient = await rawHttpClient(manager.get('b').boundAddress!);
  cleanups.push(() => httpClient.socket.destroy());
  httpPort = httpClient.socket.localPort!;
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Sends `text` on the open TCP stream through `a` and resolves with what came back for it. */
async function tcpRoundTrip(text: string): Promise<string> {
  const before = tcpClient.text().length;
  tcpClient.socket.write(text);
  const closed = tcpClient.closed.then(() => Promise.reject(new Error('the stream closed before the echo')));
  const all = await Promise.race([tcpClient.bytes(before + text.length), closed]);
  return all.subarray(before).toString();
}

/** The stream through `a` and the keep-alive connection through `b` are the ones opened first and carry data. */
async function expectOpenConnectionsServe(step: string, webUpstream = 'web1'): Promise<void> {
  expect(await tcpRoundTrip(`tcp ${step}`), step).toBe(`tcp ${step}`);
  expect(await httpClient.post(`http ${step}`), step).toEqual({
    status: 200,
    body: `${webUpstream}:http ${step}`,
  });
  expect({ tcpClosed, httpClosed: httpClient.closed() }, step).toEqual({
    tcpClosed: false,
    httpClosed: false,
  });
  expect(tcpClient.socket.localPort, step).toBe(tcpPort);
  expect(httpClient.socket.localPort, step).toBe(httpPort);
  // The proxy side too: no new upstream connection was opened for the TCP stream.
  expect(echo.accepted.length, step).toBe(1);
}

describe('proxy isolation', () => {
  it("keeps another proxy's open TCP stream and keep-alive HTTP connection while a proxy is added, changed and removed", async () => {
    await expectOpenConnectionsServe('before');

    const c = await manager.add({ name: 'c', listen: '127.0.0.1:0', upstream: web1.address, mode: 'http' });
    expect(await (await fetch(`http://${c.boundAddress}/`, { method: 'POST', body: 'x' })).text()).toBe(
      'web1:x',
    );
    await expectOpenConnectionsServe('after adding c');

    const moved = await manager.update('c', { upstream: web2.address, listen: await freeAddress() });
    expect(moved.boundAddress).toBe(moved.listen);
    await expectOpenConnectionsServe('after changing the upstream and listen of c');

    await manager.update('c', { mode: 'tcp', upstream: shout.address });
    await expectOpenConnectionsServe('after switching c to tcp');

    manager.faults.apply('c', { type: 'latency', params: { delayMs: 5 } });
    await manager.remove('c');
    expect(manager.faults.list()).toEqual([]);
    await expectOpenConnectionsServe('after removing c');
    expect(manager.list().map((p) => [p.name, p.connections])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
  });

  it('keeps open connections on the old upstream (TCP) or moves their next request (HTTP) when the upstream changes, and through a listen change', async () => {
    await manager.update('a', { upstream: shout.address });
    await manager.update('b', { upstream: web2.address });
    // TCP: the open stream stays piped to the upstream it was accepted for; a new one goes to the new upstream.
    await expectOpenConnectionsServe('after changing the upstreams', 'web2');
    const fresh = await connectTo(manager.get('a').boundAddress!);
    cleanups.push(() => fresh.socket.destroy());
    fresh.socket.write('new');
    expect((await fresh.bytes(3)).toString()).toBe('NEW');

    await manager.update('a', { listen: await freeAddress() });
    await manager.update('b', { listen: await freeAddress() });
    await expectOpenConnectionsServe('after changing the listen addresses', 'web2');
  });
});
