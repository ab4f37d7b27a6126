import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LeaseTable } from './lease-table.ts';

describe('lease table', () => {
  it('calls onExpire once when a lease runs out without renewal', async () => {
    const expired: string[] = [];
    const table = new LeaseTable((id) => expired.push(id));
    table.arm('a', 50);
    await sleep(120);
    expect(expired).toEqual(['a']);
    expect(table.has('a')).toBe(false);
  });

  it('renewal pushes the expiry out', async () => {
    const expired: string[] = [];
    const table = new LeaseTable((id) => expired.push(id));
    table.arm('a', 80);
    for (let i = 0; i < 4; i++) {
      await sleep(40);
      expect(table.renew('a', 80)).toBeGreaterThan(Date.now());
    }
    expect(expired).toEqual([]);
    table.clearAll();
  });

  it('does not renew a lease that already expired or was cleared', async () => {
    const table = new LeaseTable(() => {});
    table.arm('a', 10);
    await sleep(40);
    expect(table.renew('a', 1000)).toBeUndefined();
    table.arm('b', 1000);
    table.clear('b');
    expect(table.renew('b', 1000)).toBeUndefined();
  });
});
