import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostPort } from '../protocol/host-port.ts';
import { ProxyManager } from '../proxy/proxy-manager.ts';
import { type SilentUpstream, startSilentUpstream } from './support/silent-upstream.ts';

// An HTTP proxy tunnels an upgrade (WebSocket) request over a raw socket to its upstream. That
// connect is bounded by the proxy's `timeouts.connectMs`, and a failure is answered as the plain
// HTTP path answers it.

const UPGRADE_REQUEST =
  'GET /socket HTTP/1.1\r\nhost: example\r\nconnection: Upgrade\r\nupgrade: websocket\r\n' +
  'sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
/** Longest wait for the proxy's answer, ms: well under the kernel's ~2 min of SYN retries. */
const ANSWER_WAIT_MS = 3_000;

let silent: SilentUpstream;
let manager: ProxyManager;

beforeAll(async () => {
  silent = await startSilentUpstream();
  manager = new ProxyManager();
});

afterAll(async () => {
  await manager?.close(0);
  await silent?.close();
});

/** Sends an upgrade request; resolves with what came back, or with `closed: false` if the socket stayed open. */
async function upgrade(address: string): Promise<{ text: string; closed: boolean; ms: number }> {
  const socket = net.connect(parseHostPort(address));
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const t0 = performance.now();
  socket.write(UPGRADE_REQUEST);
  let timer: NodeJS.Timeout | undefined;
  const closed = await new Promise<boolean>((resolve) => {
    socket.once('close', () => resolve(true));
    timer = setTimeout(() => resolve(false), ANSWER_WAIT_MS);
  });
  clearTimeout(timer);
  const ms = performance.now() - t0;
  socket.destroy();
  return { text: Buffer.concat(chunks).toString(), closed, ms };
}

function body(text: string): unknown {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
}

describe('upgrade tunnel upstream connect', () => {
  it('answers 504 UPSTREAM_TIMEOUT and closes the client when the upstream does not accept within connectMs', async () => {
    const proxy = await manager.add({
      name: 'ws-silent',
      listen: '127.0.0.1:0',
      upstream: silent.address,
      mode: 'http',
      timeouts: { connectMs: 300 },
    });
    const answer = await upgrade(proxy.boundAddress!);
    expect(answer.closed).toBe(true);
    expect(answer.text.startsWith('HTTP/1.1 504 Gateway Timeout\r\n')).toBe(true);
    expect(body(answer.text)).toMatchObject({ code: 'UPSTREAM_TIMEOUT', details: { connectTimeoutMs: 300 } });
    expect(answer.ms).toBeGreaterThanOrEqual(250);
    expect(answer.ms).toBeLessThan(2_000);
  });

  it('reads connectMs per upgrade, so a changed value bounds the next one', async () => {
    const proxy = await manager.update('ws-silent', { mode: 'http', timeouts: { connectMs: 700 } });
    const answer = await upgrade(proxy.boundAddress!);
    expect(answer.closed).toBe(true);
    expect(body(answer.text)).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(answer.ms).toBeGreaterThanOrEqual(650);
    expect(answer.ms).toBeLessThan(2_500);
  });

  it('answers 502 UPSTREAM_UNAVAILABLE at once and closes the client when the upstream refuses', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((r) => probe.close(r));
    const proxy = await manager.add({
      name: 'ws-refused',
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${port}`,
      mode: 'http',
      timeouts: { connectMs: 5_000 },
    });
    const answer = await upgrade(proxy.boundAddress!);
    expect(answer.closed).toBe(true);
    expect(answer.text.startsWith('HTTP/1.1 502 Bad Gateway\r\n')).toBe(true);
    expect(body(answer.text)).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      details: { cause: 'ECONNREFUSED' },
    });
    expect(answer.ms).toBeLessThan(1_000);
  });
});
