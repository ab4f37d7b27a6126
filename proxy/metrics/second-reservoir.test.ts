import { describe, expect, it } from 'vitest';
import { SecondReservoir, thin } from './second-reservoir.ts';

describe('SecondReservoir', () => {
  it('keeps everything, in order, until full', () => {
    const r = new SecondReservoir(5);
    for (const v of [3, 1, 2]) r.add(v);
    const out: number[] = [];
    r.appendTo(out);
    expect(out).toEqual([3, 1, 2]);
  });

  it('keeps a uniform choice of a larger stream, in arrival order', () => {
    const r = new SecondReservoir(1_000);
    for (let i = 0; i < 100_000; i++) r.add(i);
    const out: number[] = [];
    r.appendTo(out);
    expect(out).toHaveLength(1_000);
    expect([...out].sort((a, b) => a - b)).toEqual(out);
    const mean = out.reduce((a, b) => a + b, 0) / out.length;
    // Uniform over 0..99,999: mean 50,000, standard error ~913; allow 5 of them.
    expect(Math.abs(mean - 50_000)).toBeLessThan(4_600);
  });

  it('starts empty again after reset, and a cap of 0 keeps nothing', () => {
    const r = new SecondReservoir(2);
    r.add(1);
    r.reset();
    const out: number[] = [];
    r.appendTo(out);
    expect(out).toEqual([]);
    const none = new SecondReservoir(0);
    none.add(1);
    none.appendTo(out);
    expect(out).toEqual([]);
  });
});

describe('thin', () => {
  it('keeps evenly spaced samples in order', () => {
    expect(thin([1, 2, 3], 5)).toEqual([1, 2, 3]);
    expect(thin([0, 1, 2, 3, 4, 5], 3)).toEqual([0, 2, 4]);
  });
});
