import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostPort } from '../protocol/host-port.ts';
import type { ProxyFaultSpecInput } from '../protocol/proxy.ts';
import { seededRandom } from '../protocol/seeded-random.ts';
import { ProxyManager } from '../proxy/proxy-manager.ts';
import { delay, type LoopbackServer, recordingMetrics, startServer } from '../proxy/tcp/loopback-fixtures.ts';

// Toxiproxy's stress idea: a long numbered stream through the proxy while faults come and go on
// both directions; every byte must arrive exactly once, in order, both ways.

const COUNTERS = 65_536;
const TOTAL_BYTES = COUNTERS * 4;
const BUDGET_MS = 20_000;

const FAULTS: readonly ((r: () => number) => Omit<ProxyFaultSpecInput, 'direction'>)[] = [
  (r) => ({ type: 'latency', params: { delayMs: 1 + Math.floor(r() * 5) } }),
  () => ({ type: 'bandwidth', params: { rateKbPerSec: 10_240 } }),
  (r) => ({
    type: 'slicer',
    params: { averageSizeBytes: 512, sizeVariationBytes: 256, delayUs: r() < 0.5 ? 0 : 200 },
  }),
  () => ({ type: 'latency', params: { delayMs: 3, jitterMs: 3 } }),
];

/** The upstream: checks the counters arrive in order, and echoes every byte back. */
interface Verifier {
  next: number;
  errors: number;
}

let upstream: LoopbackServer;
const verifier: Verifier = { next: 0, errors: 0 };
let manager: ProxyManager;
const metrics = recordingMetrics();

beforeAll(async () => {
  upstream = await startServer((s) => {
    let carry = Buffer.alloc(0);
    s.on('data', (data: Buffer) => {
      const buf = carry.length ? Buffer.concat([carry, data]) : data;
      let off = 0;
      for (; off + 4 <= buf.length; off += 4) {
        if (buf.readUInt32BE(off) !== verifier.next) verifier.errors++;
        verifier.next++;
      }
      carry = Buffer.from(buf.subarray(off));
      s.write(data);
    });
    s.on('end', () => s.end());
  });
  manager = new ProxyManager({ metrics });
  await manager.add({ name: 'stress', listen: '127.0.0.1:0', upstream: upstream.address, mode: 'tcp' });
});

afterAll(async () => {
  await manager?.close(0);
  await upstream?.close();
});

describe('tcp proxy under churning faults', () => {
  it('delivers 65,536 numbered chunks exactly once and in order both ways while faults are applied and reverted', async () => {
    const started = performance.now();
    const random = seededRandom(2026);
    const { host, port } = parseHostPort(manager.get('stress').boundAddress!);
    const socket = net.connect({ host, port, noDelay: true });
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));

    const sent = createHash('sha256');
    const received = createHash('sha256');
    let receivedBytes = 0;
    const done = new Promise<void>((resolve) => {
      socket.on('data', (data: Buffer) => {
        received.update(data);
        receivedBytes += data.length;
        if (receivedBytes >= TOTAL_BYTES) resolve();
      });
    });

    // Fault churn: every few ms apply a random fault on a random direction or revert one.
    let changes = 0;
    let churning = true;
    const active: string[] = [];
    const churn = (async () => {
      while (churning && performance.now() - started < BUDGET_MS) {
        if (active.length > 0 && (active.length >= 4 || random() < 0.5)) {
          const [id] = active.splice(Math.floor(random() * active.length), 1);
          manager.faults.revert(id!);
        } else {
          const make = FAULTS[Math.floor(random() * FAULTS.length)]!;
          const direction = random() < 0.5 ? 'upstream' : 'downstream';
          active.push(manager.faults.apply('stress', { ...make(random), direction, leaseMs: 0 }).id);
        }
        changes++;
        await delay(1 + random() * 4);
      }
    })();

    // The stream: each numbered chunk is its own socket.write (65,536 writes), in bursts of uneven
    // length with a 1 ms pause between them, so faults flip mid-stream many times.
    let chunk = 0;
    while (chunk < COUNTERS) {
      const burst = Math.min(COUNTERS - chunk, 1 + Math.floor(random() * 250));
      let writable = true;
      for (const end = chunk + burst; chunk < end; chunk++) {
        const piece = Buffer.allocUnsafe(4);
        piece.writeUInt32BE(chunk, 0);
        sent.update(piece);
        writable = socket.write(piece);
      }
      if (!writable) await new Promise((r) => socket.once('drain', r));
      await delay(1);
    }

    // Bounded: a lost byte must fail the assertions below, not hang the test.
    let budget: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise((r) => (budget = setTimeout(r, BUDGET_MS - (performance.now() - started)))),
    ]);
    clearTimeout(budget);
    churning = false;
    await churn;
    manager.faults.reset('stress');
    socket.end();
    await new Promise((r) => socket.once('close', r));

    const ms = performance.now() - started;
    expect(receivedBytes).toBe(TOTAL_BYTES);
    expect(verifier.errors).toBe(0);
    expect(verifier.next).toBe(COUNTERS);
    expect(received.digest('hex')).toBe(sent.digest('hex'));
    expect(changes).toBeGreaterThan(50);
    expect(ms).toBeLessThan(BUDGET_MS);
    await delay(20);
    expect(metrics.records).toHaveLength(1);
    expect(metrics.records[0]).toMatchObject({ outcome: 'ok', bytesIn: TOTAL_BYTES, bytesOut: TOTAL_BYTES });
    console.log(`tcp stress: ${TOTAL_BYTES} bytes each way, ${changes} fault changes, ${ms.toFixed(0)} ms`);
  });
});
