import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { FaultStore } from '../fault-store.ts';
import { type Fault, type PipelineExchange, runRequestFaults } from './fault-pipeline.ts';

/** The parts of an exchange runRequestFaults touches, recording whether it forwarded. */
function fakeExchange(url: string): PipelineExchange & { forwarded: boolean } {
  const ex = {
    req: { url, method: 'GET', headers: {} } as IncomingMessage,
    startedAt: performance.now(),
    forwarded: false,
    answered: false,
    forward() {
      ex.forwarded = true;
    },
    fail(err: unknown) {
      throw err;
    },
  };
  return ex as unknown as PipelineExchange & { forwarded: boolean };
}

function storeWith(...specs: object[]): readonly Fault[] {
  const store = new FaultStore(() => 'http');
  for (const spec of specs) store.apply('api', spec as never);
  return store.forProxy('api') as readonly Fault[];
}

describe('runRequestFaults', () => {
  it('keeps the store’s frozen list, not a copy, when every fault acts on the request', () => {
    const faults = storeWith({ type: 'latency', direction: 'downstream', params: { delayMs: 100 } });
    const ex = fakeExchange('/orders/1');
    runRequestFaults(ex, faults);
    expect(ex.acting).toBe(faults);
    expect(ex.downstream).toBe(faults);
    expect(ex.forwarded).toBe(true);
  });

  it('lists only the faults whose match admits the request, and only downstream ones as downstream', () => {
    const faults = storeWith(
      {
        id: 'other-path',
        type: 'latency',
        direction: 'downstream',
        params: { delayMs: 100 },
        match: { path: '/other/**' },
      },
      { id: 'up', type: 'latency', direction: 'upstream', params: { delayMs: 0 } },
      { id: 'down', type: 'latency', direction: 'downstream', params: { delayMs: 100 } },
    );
    const ex = fakeExchange('/orders/1');
    runRequestFaults(ex, faults);
    expect(ex.acting?.map((f) => f.id)).toEqual(['up', 'down']);
    expect(ex.downstream?.map((f) => f.id)).toEqual(['down']);
    // The 0 ms upstream delay is already over: forwarded at once.
    expect(ex.forwarded).toBe(true);
  });

  it('leaves both lists empty and forwards when no fault admits the request', () => {
    const faults = storeWith({
      type: 'latency',
      direction: 'upstream',
      params: { delayMs: 100 },
      match: { methods: ['POST'] },
    });
    const ex = fakeExchange('/orders/1');
    runRequestFaults(ex, faults);
    expect(ex.acting).toBeUndefined();
    expect(ex.downstream).toBeUndefined();
    expect(ex.forwarded).toBe(true);
  });
});
