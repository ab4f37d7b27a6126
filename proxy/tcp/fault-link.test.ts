import { afterEach, describe, expect, it, vi } from 'vitest';
import { FaultLink, type LinkOwner } from './fault-link.ts';
import type { TcpDirection } from './tcp-direction.ts';

const owner: LinkOwner = { closing: false, closeByFault: () => {}, resetByFault: () => {} };

function link(): FaultLink {
  // sleep() never touches the pipe.
  return new FaultLink({ direction: 'downstream', pipe: {} as TcpDirection, owner });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('fault link sleep', () => {
  it('arms its first timer for the wait rounded up to a whole ms, and never wakes early', async () => {
    const armed = vi.spyOn(globalThis, 'setTimeout');
    const started = performance.now();
    await link().sleep(20.3);
    expect(performance.now() - started).toBeGreaterThanOrEqual(20.3);
    // Node truncates timer durations to whole ms: 20.3 would fire at 20 ms and need a second timer.
    expect(armed.mock.calls[0]?.[1]).toBe(21);
  });

  it('ends every wait at once when the fault is released from the connection', async () => {
    const l = link();
    const started = performance.now();
    const waiting = l.sleep(60_000);
    l.release();
    await waiting;
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(l.active).toBe(false);
  });
});
