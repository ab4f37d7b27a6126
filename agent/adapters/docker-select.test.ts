import { describe, expect, it } from 'vitest';
import { ContainerSelect, parseLabelSelector, seedOf, selectIds } from './docker-select.ts';

const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);

describe('selectIds', () => {
  it('picks every id when no count or percent is given', () => {
    expect(selectIds(ids, undefined, 1)).toEqual([...ids].sort());
  });

  it('picks count ids, the same ones again for the same seed whatever the listing order', () => {
    const a = selectIds(ids, { count: 3 }, 42);
    expect(a).toHaveLength(3);
    expect(selectIds([...ids].reverse(), { count: 3 }, 42)).toEqual(a);
  });

  it('picks other ids for other seeds', () => {
    const picks = new Set(Array.from({ length: 20 }, (_, seed) => selectIds(ids, { count: 3 }, seed).join()));
    expect(picks.size).toBeGreaterThan(5);
  });

  it('rounds percent up and picks at least one', () => {
    expect(selectIds(ids, { percent: 25 }, 7)).toHaveLength(3);
    expect(selectIds(ids, { percent: 1 }, 7)).toHaveLength(1);
    expect(selectIds(ids, { count: 50 }, 7)).toHaveLength(10);
  });
});

describe('ContainerSelect', () => {
  it('refuses count and percent together and unknown keys', () => {
    expect(ContainerSelect.safeParse({ count: 1, percent: 50 }).success).toBe(false);
    expect(ContainerSelect.safeParse({ counts: 1 }).success).toBe(false);
    expect(ContainerSelect.safeParse({ percent: 50, seed: 3 }).success).toBe(true);
  });
});

describe('parseLabelSelector', () => {
  it('reads k=v pairs, values may be empty', () => {
    expect(parseLabelSelector('app=web,tier=')).toEqual({ app: 'web', tier: '' });
  });

  it('derives the same seed from the same fault id', () => {
    expect(seedOf('f-1')).toBe(seedOf('f-1'));
    expect(seedOf('f-1')).not.toBe(seedOf('f-2'));
  });
});
