import { describe, expect, it } from 'vitest';
import { hash32, seededRandom } from './seeded-random.ts';

describe('seeded sampling', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const sa = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(sa);
    expect(Array.from({ length: 5 }, c)).not.toEqual(sa);
  });

  it('spreads values evenly enough that 30 % sampling takes about 30 %', () => {
    const r = seededRandom(7);
    let hits = 0;
    for (let i = 0; i < 100_000; i++) if (r() < 0.3) hits++;
    expect(hits / 100_000).toBeGreaterThan(0.29);
    expect(hits / 100_000).toBeLessThan(0.31);
  });

  it('hashes the same text to the same value', () => {
    expect(hash32('user-1')).toBe(hash32('user-1'));
    expect(hash32('user-1')).not.toBe(hash32('user-2'));
  });
});
