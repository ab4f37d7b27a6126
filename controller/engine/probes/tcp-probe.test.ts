import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createTcpProbe } from './tcp-probe.ts';

describe('tcp probe', () => {
  it('succeeds when a listener accepts the connection and fails once it is gone', async () => {
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const probe = createTcpProbe('db', { address: `127.0.0.1:${port}`, timeoutMs: 1000 });
    try {
      const up = await probe.run(new AbortController().signal);
      expect(up).toMatchObject({ probe: 'db', kind: 'tcp', ok: true });
      expect(up.latencyMs).toBeGreaterThan(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const down = await probe.run(new AbortController().signal);
    expect(down.ok).toBe(false);
    expect(down.error).toContain('ECONNREFUSED');
  });

  it('ends early with ok false when the run is aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const s = await createTcpProbe('db', { address: '127.0.0.1:9', timeoutMs: 1000 }).run(ac.signal);
    expect(s).toMatchObject({ ok: false, error: 'aborted' });
  });
});
