import { describe, expect, it } from 'vitest';
import { FaultId, ProxyFaultSpec, type ProxyFaultView } from '../../protocol/proxy.ts';
import {
  faultToToxic,
  normalizeAttributes,
  TOXIC_TYPES,
  ToxicCreate,
  toxicFaultId,
  toxicToFaultSpec,
} from './toxic-mapping.ts';

function view(spec: Partial<ProxyFaultView>): ProxyFaultView {
  return {
    ...ProxyFaultSpec.parse({ type: 'latency', ...spec }),
    id: 'x',
    proxy: 'db',
    appliedAt: 0,
    expiresAt: null,
    affected: 0,
    ...spec,
  } as ProxyFaultView;
}

describe('toxic mapping', () => {
  it('maps every Toxiproxy attribute onto a parameter with its unit in the name', () => {
    const cases = [
      ['latency', { latency: 100, jitter: 10 }, { delayMs: 100, jitterMs: 10 }],
      ['bandwidth', { rate: 64 }, { rateKbPerSec: 64 }],
      ['slow_close', { delay: 500 }, { delayMs: 500 }],
      ['timeout', { timeout: 2000 }, { timeoutMs: 2000 }],
      ['reset_peer', { timeout: 50 }, { timeoutMs: 50 }],
      [
        'slicer',
        { average_size: 16, size_variation: 4, delay: 250 },
        { averageSizeBytes: 16, sizeVariationBytes: 4, delayUs: 250 },
      ],
      ['limit_data', { bytes: 1024 }, { bytes: 1024 }],
    ] as const;
    expect(cases.map((c) => c[0]).sort()).toEqual(Object.keys(TOXIC_TYPES).sort());
    for (const [type, attributes, params] of cases) {
      const spec = toxicToFaultSpec('db', {
        name: 't',
        type,
        stream: 'upstream',
        toxicity: 0.25,
        attributes,
      });
      expect(spec).toEqual({ id: 'db:t', type, direction: 'upstream', params, percent: 25, leaseMs: 0 });
    }
  });

  it('makes bandwidth with rate 0 a fault that holds the direction until removed, as Toxiproxy does', () => {
    const toxic = { name: 'cut', type: 'bandwidth', stream: 'upstream', toxicity: 1 } as const;
    const held = { id: 'db:cut', type: 'timeout', direction: 'upstream', params: { timeoutMs: 0 } };
    expect(toxicToFaultSpec('db', { ...toxic, attributes: { rate: 0 } })).toEqual({
      ...held,
      percent: 100,
      leaseMs: 0,
    });
    const missing = normalizeAttributes('bandwidth', {});
    expect(missing).toEqual({ rate: 0 });
    expect(toxicToFaultSpec('db', { ...toxic, attributes: missing as { rate: number } })).toMatchObject(held);
    expect(toxicToFaultSpec('db', { ...toxic, attributes: { rate: 1 } })).toMatchObject({
      type: 'bandwidth',
      params: { rateKbPerSec: 1 },
    });
  });

  it('turns a fault back into the same toxic', () => {
    const toxic = {
      name: 'lat',
      type: 'latency',
      stream: 'downstream',
      toxicity: 0.5,
      attributes: { latency: 30, jitter: 5 },
    } as const;
    const spec = toxicToFaultSpec('db', toxic);
    expect(faultToToxic(view({ ...ProxyFaultSpec.parse(spec), id: spec.id! }), 'lat')).toEqual(toxic);
  });

  it('has no toxic for a fault type Toxiproxy does not know', () => {
    expect(faultToToxic(view({ type: 'blackhole', params: {} }), 'b')).toBeUndefined();
  });

  it('fills missing attributes with 0, ignores unknown ones and rejects non-numbers', () => {
    expect(normalizeAttributes('latency', { latency: 5, colour: 'red' })).toEqual({ latency: 5, jitter: 0 });
    expect(normalizeAttributes('latency', { latency: '5' })).toBe('attribute latency must be a number');
  });

  it('applies Toxiproxy defaults to a toxic body: downstream, toxicity 1, case-insensitive stream', () => {
    expect(ToxicCreate.parse({ type: 'latency' })).toEqual({
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: {},
    });
    expect(ToxicCreate.parse({ type: 'latency', stream: 'UpStream' }).stream).toBe('upstream');
    expect(ToxicCreate.safeParse({ type: 'latency', stream: 'sideways' }).success).toBe(false);
    expect(ToxicCreate.safeParse({ type: 'latency', toxicity: 2 }).success).toBe(false);
  });

  it('makes a valid fault id even from toxic names fault ids cannot hold', () => {
    expect(toxicFaultId('db', 'latency_downstream')).toBe('db:latency_downstream');
    const odd = toxicFaultId('db', 'my toxic/1');
    expect(FaultId.safeParse(odd).success).toBe(true);
    expect(odd).toBe(toxicFaultId('db', 'my toxic/1'));
    expect(odd).not.toBe(toxicFaultId('db', 'my toxic/2'));
  });
});
