import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyServer, startProxyServer } from '../proxy/proxy-server.ts';
import { type SilentUpstream, startSilentUpstream } from './support/silent-upstream.ts';

// `timeouts` on a proxy bound how long the upstream side may take. The silent upstream
// (test/support/silent-upstream.ts) is a listening socket whose connects never complete.

let silent: SilentUpstream;
let mute: net.Server;
let server: ProxyServer;

beforeAll(async () => {
  silent = await startSilentUpstream();
  const silentPort = silent.port;
  // An upstream that accepts and reads, and never answers.
  mute = net.createServer((socket) => socket.on('data', () => {}));
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  const mutePort = (mute.address() as net.AddressInfo).port;
  server = await startProxyServer({
    admin: '127.0.0.1:0',
    proxies: [
      {
        name: 'tcp-silent',
        listen: '127.0.0.1:0',
        upstream: `127.0.0.1:${silentPort}`,
        mode: 'tcp',
        timeouts: { connectMs: 300 },
      },
      {
        name: 'http-silent',
        listen: '127.0.0.1:0',
        upstream: `127.0.0.1:${silentPort}`,
        mode: 'http',
        timeouts: { connectMs: 300 },
      },
      {
        name: 'http-mute',
        listen: '127.0.0.1:0',
        upstream: `127.0.0.1:${mutePort}`,
        mode: 'http',
        timeouts: { headersMs: 400 },
      },
      {
        name: 'http-mute-one',
        listen: '127.0.0.1:0',
        upstream: `127.0.0.1:${mutePort}`,
        mode: 'http',
        timeouts: { headersMs: 600 },
        upstreamConnections: 1,
      },
    ],
  });
});

afterAll(async () => {
  await server?.close(0);
  mute?.close();
  await silent?.close();
});

const address = (name: string) => {
  const [host, port] = server.manager.get(name).boundAddress!.split(':');
  return { host: host!, port: Number(port) };
};

describe('upstream timeouts', () => {
  it('closes a TCP client whose upstream does not complete the connect within connectMs', async () => {
    const t0 = performance.now();
    const client = net.connect(address('tcp-silent'));
    client.on('error', () => {});
    client.write('hello');
    await once(client, 'close');
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2_000);
    expect(server.manager.get('tcp-silent').timeouts).toEqual({ connectMs: 300 });
  });

  it('answers an HTTP request 504 UPSTREAM_TIMEOUT when the upstream does not accept within connectMs', async () => {
    const { host, port } = address('http-silent');
    const t0 = performance.now();
    const res = await fetch(`http://${host}:${port}/`);
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it('answers 504 when the upstream sends no response head within headersMs', async () => {
    const { host, port } = address('http-mute');
    const t0 = performance.now();
    const res = await fetch(`http://${host}:${port}/`);
    expect(res.status).toBe(504);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('times headersMs from forwarding, a wait for a free upstream connection included', async () => {
    // One upstream connection: the second request waits for it, and still gets its 504 on time.
    const { host, port } = address('http-mute-one');
    const t0 = performance.now();
    const answers = await Promise.all(
      [0, 1].map(async () => {
        const res = await fetch(`http://${host}:${port}/`);
        return { status: res.status, body: await res.json(), ms: performance.now() - t0 };
      }),
    );
    for (const a of answers) {
      expect(a.status).toBe(504);
      expect(a.body).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
      expect(a.ms).toBeGreaterThanOrEqual(590);
      expect(a.ms).toBeLessThan(900);
    }
  });
});
