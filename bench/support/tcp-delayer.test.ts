import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTcpDelayer, startTcpDelayer, type TcpDelayer } from './tcp-delayer.ts';

/**
 * The delay the tests set, ms, and the most an exchange without it may take: far apart, so that a
 * slow moment on a busy test machine cannot pass for a delay or hide one.
 */
const HELD_MS = 600;
const UNHELD_MS = 300;

/** The upstream greets each connection with this byte, then echoes what it reads. */
const GREETING = Buffer.from('>');

/**
 * Sends `payload` through a fresh connection to `port`; resolves with when the upstream's greeting
 * came (ms after the connect), when the whole echo was back (ms), and the echo itself.
 */
function roundTrip(port: number, payload: Buffer): Promise<{ greetMs: number; ms: number; echoed: Buffer }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let greetMs = Number.NaN;
    const parts: Buffer[] = [];
    let got = 0;
    const s: Socket = connect(port, '127.0.0.1', () => s.write(payload));
    s.on('data', (d: Buffer) => {
      if (got === 0) greetMs = performance.now() - t0;
      parts.push(d);
      got += d.length;
      if (got >= GREETING.length + payload.length) {
        s.destroy();
        const all = Buffer.concat(parts);
        resolve({ greetMs, ms: performance.now() - t0, echoed: all.subarray(GREETING.length) });
      }
    });
    s.once('error', reject);
  });
}

// The latency bench's C reference for TCP must delay what it is told to, in that direction only
// once per chunk, keep every byte in order, and stop delaying when reset.
describe('C TCP delayer', () => {
  let dir: string;
  let echo: Server;
  let delayer: TcpDelayer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-bench-test-'));
    echo = createServer((s) => {
      s.write(GREETING);
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const upstreamPort = (echo.address() as { port: number }).port;
    delayer = await startTcpDelayer(buildTcpDelayer(dir), { upstreamPort });
  });

  afterAll(async () => {
    await delayer?.close();
    await new Promise((r) => echo?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('pipes bytes straight through until a delay is set', async () => {
    const r = await roundTrip(delayer.port, Buffer.from('ping'));
    expect(r.echoed.toString()).toBe('ping');
    expect(r.ms).toBeLessThan(UNHELD_MS);
  });

  it('holds each direction for its delay, and stops on reset', async () => {
    for (const direction of ['upstream', 'downstream'] as const) {
      await delayer.setDelay(direction, HELD_MS);
      const held = await roundTrip(delayer.port, Buffer.from(direction));
      expect(held.echoed.toString()).toBe(direction);
      // Timed by a timerfd in ns: never early. The greeting travels downstream only.
      expect(held.ms).toBeGreaterThanOrEqual(HELD_MS);
      if (direction === 'upstream') expect(held.greetMs).toBeLessThan(UNHELD_MS);
      else expect(held.greetMs).toBeGreaterThanOrEqual(HELD_MS);
      await delayer.reset();
      expect((await roundTrip(delayer.port, Buffer.from('x'))).ms).toBeLessThan(UNHELD_MS);
    }
  });

  it('delivers 8 MiB of numbered bytes in order through a delay both ways', async () => {
    const payload = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i / 4, i);
    await delayer.setDelay('upstream', 20);
    await delayer.setDelay('downstream', 20);
    try {
      const r = await roundTrip(delayer.port, payload);
      expect(r.echoed.length).toBe(payload.length);
      expect(r.echoed.equals(payload)).toBe(true);
    } finally {
      await delayer.reset();
    }
  });

  it('refuses a delay that is not whole milliseconds', async () => {
    await expect(delayer.setDelay('upstream', 2.5)).rejects.toThrow(/whole ms/);
  });
});
