import { describe, expect, it } from 'vitest';
import { parseQdiscLine, qdiscHandle } from './root-qdisc.ts';

describe('root qdisc helpers', () => {
  it('gives each agent a stable handle major in fa00:-faff:', () => {
    const handles = ['web-1', 'web-2', 'db', 'a'].map(qdiscHandle);
    for (const h of handles) expect(h).toMatch(/^fa[0-9a-f]{2}:$/);
    expect(qdiscHandle('web-1')).toBe(handles[0]);
    expect(new Set(handles).size).toBeGreaterThan(1);
  });

  it('reads kind, handle, device and root from tc qdisc show lines', () => {
    expect(parseQdiscLine('qdisc tbf fa12: dev eth0 root refcnt 2 rate 2Mbit burst 16Kb lat 400ms')).toEqual({
      kind: 'tbf',
      handle: 'fa12:',
      device: 'eth0',
      root: true,
    });
    expect(parseQdiscLine('qdisc noqueue 0: root refcnt 2')).toMatchObject({
      kind: 'noqueue',
      handle: '0:',
      root: true,
    });
    expect(parseQdiscLine('qdisc pfifo 8001: dev eth0 parent fa12:1 limit 1000p')).toMatchObject({
      root: false,
    });
    expect(parseQdiscLine('')).toBeUndefined();
  });
});
