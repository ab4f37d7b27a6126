import { describe, expect, it } from 'vitest';
import { FailureCounter } from './failure-counter.ts';

const feed = (c: FailureCounter, results: string) => [...results].map((r) => c.record(r === '.').breached);

describe('guard failure counter', () => {
  it('breaches after N consecutive failures and a success resets the run', () => {
    const c = new FailureCounter({ failAfter: 3 });
    // . = pass, x = fail
    expect(feed(c, 'xx.xxx')).toEqual([false, false, false, false, false, true]);
    expect(c.record(false)).toEqual({ breached: true, failures: 4, considered: 4 });
    expect(c.record(true).failures).toBe(0);
  });

  it('defaults to breaching on the first failure', () => {
    expect(feed(new FailureCounter({}), '.x')).toEqual([false, true]);
  });

  it('breaches when m of the last n results failed, forgetting older ones', () => {
    const c = new FailureCounter({ mOfN: { m: 3, n: 5 } });
    expect(feed(c, 'x.x..')).toEqual([false, false, false, false, false]);
    // last five were x . x . . ; a failure pushes the oldest x out: . x . . x (2 of 5)
    expect(c.record(false)).toEqual({ breached: false, failures: 2, considered: 5 });
    // x . . x x (3 of 5)
    expect(c.record(false)).toEqual({ breached: true, failures: 3, considered: 5 });
  });

  it('starts over after reset', () => {
    const c = new FailureCounter({ mOfN: { m: 2, n: 3 } });
    feed(c, 'x');
    c.reset();
    expect(c.record(false)).toEqual({ breached: false, failures: 1, considered: 1 });
  });
});
