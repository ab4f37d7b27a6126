import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeFixture } from './node-fixture.ts';
import { STATIC_BODY, startHaproxy, startNginxProxy, startNginxStatic } from './peers.ts';
import { ChildGroup, rssBytes } from './processes.ts';
import { runWrk } from './wrk.ts';

// Keeps the bench machinery honest: every peer the benches start must start, carry traffic and
// stop again. One-second wrk runs; no figures are asserted beyond "it served requests".
describe('bench peers', () => {
  let group: ChildGroup;
  let dir: string;
  let upstreamPort: number;

  beforeAll(async () => {
    group = new ChildGroup();
    dir = mkdtempSync(join(tmpdir(), 'faultline-bench-test-'));
    upstreamPort = (await startNginxStatic({ group, dir })).port;
  });

  afterAll(async () => {
    await group?.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('nginx serves the static body that the throughput bench measures', async () => {
    const res = await fetch(`http://127.0.0.1:${upstreamPort}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(STATIC_BODY);
  });

  it('nginx and HAProxy in front of the upstream carry wrk traffic without errors', async () => {
    const peers = [
      await startNginxProxy({ group, dir }, upstreamPort),
      await startHaproxy({ group, dir }, 'http', upstreamPort),
      await startHaproxy({ group, dir }, 'tcp', upstreamPort),
    ];
    for (const peer of peers) {
      const r = await runWrk({ url: `http://127.0.0.1:${peer.port}/`, connections: 4, durationSec: 1 });
      expect(r.requests, peer.name).toBeGreaterThan(100);
      expect(r.socketErrors + r.non2xx, peer.name).toBe(0);
    }
  });

  it('the Faultline fixture proxies traffic and applies a fault sent over IPC', async () => {
    const fl = await startNodeFixture(
      group,
      'faultline-proxy.ts',
      ['--mode', 'http', '--upstream', `127.0.0.1:${upstreamPort}`],
      {
        name: 'faultline-http',
      },
    );
    expect(fl.via).toBe('startProxyServer');
    expect(rssBytes(fl.pid)).toBeGreaterThan(10 * 1_048_576);
    const url = `http://127.0.0.1:${fl.port}/`;
    expect(await (await fetch(url)).text()).toBe(STATIC_BODY);
    await fl.request({
      op: 'apply',
      spec: { id: 't', type: 'latency', params: { delayMs: 50 }, leaseMs: 0 },
    });
    const slow = await runWrk({ url, connections: 1, durationSec: 1 });
    expect(slow.p50Us).toBeGreaterThanOrEqual(50_000);
    await fl.request({ op: 'reset' });
    // p50 over a second of traffic, so one slow request on a busy machine cannot fail this.
    const fast = await runWrk({ url, connections: 1, durationSec: 1 });
    expect(fast.p50Us).toBeLessThan(25_000);
    await expect(fl.request({ op: 'apply', spec: { type: 'no-such-fault' } })).rejects.toThrow(
      /no-such-fault/,
    );
  });

  it('the http-proxy peer forwards to the upstream', async () => {
    const hp = await startNodeFixture(
      group,
      'http-proxy-server.ts',
      ['--upstream', `127.0.0.1:${upstreamPort}`],
      {
        name: 'http-proxy',
      },
    );
    const res = await fetch(`http://127.0.0.1:${hp.port}/`);
    expect(await res.text()).toBe(STATIC_BODY);
  });

  it('the bare delayer forwards in both modes and delays the direction it is told to, until reset', async () => {
    for (const mode of ['tcp', 'http']) {
      const bare = await startNodeFixture(
        group,
        'bare-delayer.ts',
        ['--mode', mode, '--upstream', `127.0.0.1:${upstreamPort}`],
        { name: `bare-${mode}` },
      );
      const url = `http://127.0.0.1:${bare.port}/`;
      expect(await (await fetch(url)).text(), mode).toBe(STATIC_BODY);
      for (const direction of ['downstream', 'upstream']) {
        await bare.request({ op: 'apply', spec: { id: 'b', direction, params: { delayMs: 50 } } });
        const slow = await runWrk({ url, connections: 1, durationSec: 1 });
        expect(slow.p50Us, `${mode} ${direction}`).toBeGreaterThanOrEqual(49_000);
        expect(slow.socketErrors + slow.non2xx, `${mode} ${direction}`).toBe(0);
        await bare.request({ op: 'reset' });
      }
      const fast = await runWrk({ url, connections: 1, durationSec: 1 });
      expect(fast.p50Us, mode).toBeLessThan(25_000);
      await bare.stop();
    }
  });
});
