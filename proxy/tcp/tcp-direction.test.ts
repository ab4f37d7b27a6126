import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProxyManager } from '../proxy-manager.ts';
import { connectTo, delay, type LoopbackServer, startServer, waitFor } from './loopback-fixtures.ts';
import { QUEUE_HIGH_WATER_BYTES } from './tcp-direction.ts';

const MiB = 1024 * 1024;
let sink: LoopbackServer;
let received = 0;
let manager: ProxyManager;
let address: string;

beforeEach(async () => {
  received = 0;
  sink = await startServer((s) => s.on('data', (d: Buffer) => (received += d.length)));
  manager = new ProxyManager();
  await manager.add({ name: 'p', listen: '127.0.0.1:0', upstream: sink.address, mode: 'tcp' });
  address = manager.get('p').boundAddress!;
});

afterEach(async () => {
  await manager.close(0);
  await sink.close();
});

describe('a direction with faults', () => {
  it('stops reading from the client while its chain holds data, so the backlog stays with the client', async () => {
    const hold = manager.faults.apply('p', {
      type: 'timeout',
      direction: 'upstream',
      params: { timeoutMs: 0 },
      leaseMs: 0,
    });
    const c = await connectTo(address);
    const total = 32 * MiB;
    const piece = Buffer.alloc(64 * 1024, 1);
    for (let off = 0; off < total; off += piece.length) c.socket.write(piece);
    // Wait until the stream has stalled: the client's own buffer stops shrinking.
    let last = -1;
    await waitFor(() => {
      const now = c.socket.writableLength;
      const stalled = now === last;
      last = now;
      return stalled;
    }, 3000);
    await delay(50);
    expect(received).toBe(0);
    // What left the client sits in kernel buffers and at most the proxy's bounded queue; most of it
    // is still waiting in the client.
    const inFlight = total - c.socket.writableLength;
    expect(inFlight).toBeLessThan(total / 2);
    expect(inFlight).toBeGreaterThan(QUEUE_HIGH_WATER_BYTES);

    manager.faults.revert(hold.id);
    expect(await waitFor(() => received === total, 10_000)).toBe(true);
    expect(c.socket.writableLength).toBe(0);
    c.socket.destroy();
  });
});
