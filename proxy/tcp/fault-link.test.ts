import { afterEach, describe, expect, it, vi } from 'vitest';
import { FaultLink, type LinkOwner } from './fault-link.ts';
import { DONE, type TcpDirection } from './tcp-direction.ts';

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

/** A link whose pipe records what is forwarded (or throws, when `fail` is given). */
function recordingLink(fail?: Error): { l: FaultLink; sent: { data: string; at: number }[] } {
  const sent: { data: string; at: number }[] = [];
  const pipe = {
    runFrom(_chain: unknown, _index: number, data: Buffer): Promise<void> {
      if (fail) throw fail;
      sent.push({ data: data.toString(), at: performance.now() });
      return DONE;
    },
  } as unknown as TcpDirection;
  return { l: new FaultLink({ direction: 'downstream', pipe, owner }), sent };
}

describe('fault link forwardAfter', () => {
  it('forwards the bytes once the wait is over, not before', async () => {
    const { l, sent } = recordingLink();
    const started = performance.now();
    await l.forwardAfter(15.2, Buffer.from('late'));
    expect(sent.map((s) => s.data)).toEqual(['late']);
    expect(sent[0]!.at - started).toBeGreaterThanOrEqual(15.2);
  });

  it('forwards at once, with no promise, when nothing is left to wait', () => {
    const { l, sent } = recordingLink();
    expect(l.forwardAfter(0, Buffer.from('now'))).toBe(DONE);
    expect(l.forwardAfter(-3, Buffer.from('overdue'))).toBe(DONE);
    expect(sent.map((s) => s.data)).toEqual(['now', 'overdue']);
  });

  it('lets held bytes go on when the fault is released, after the release itself returns', async () => {
    const { l, sent } = recordingLink();
    const started = performance.now();
    const waiting = l.forwardAfter(60_000, Buffer.from('held'));
    l.release();
    expect(sent).toEqual([]);
    await waiting;
    expect(sent.map((s) => s.data)).toEqual(['held']);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('rejects, rather than throwing from its timer, when a later stage throws', async () => {
    const { l } = recordingLink(new Error('stage bug'));
    await expect(l.forwardAfter(1, Buffer.from('x'))).rejects.toThrow('stage bug');
  });

  it('ends several waits of one link in the order they are due, and each only once', async () => {
    const { l, sent } = recordingLink();
    const all = [
      l.forwardAfter(12, Buffer.from('b')),
      l.forwardAfter(4, Buffer.from('a')),
      l.forwardAfter(20, Buffer.from('c')),
    ];
    await Promise.all(all);
    expect(sent.map((s) => s.data)).toEqual(['a', 'b', 'c']);
    l.release();
    expect(sent).toHaveLength(3);
  });
});
