import { describe, expect, it } from 'vitest';
import { burstBytes, NetworkBandwidthParams } from './network-bandwidth.ts';

describe('network-bandwidth burst', () => {
  it('defaults to 10 ms of the rate, at least 16 KiB and at least the MTU plus 1 KiB', () => {
    expect(burstBytes(NetworkBandwidthParams.parse({ rateKbitPerSec: 2000 }), 1500)).toBe(16 * 1024);
    expect(burstBytes(NetworkBandwidthParams.parse({ rateKbitPerSec: 2000 }), 65_536)).toBe(65_536 + 1024);
    expect(burstBytes(NetworkBandwidthParams.parse({ rateKbitPerSec: 100_000 }), 1500)).toBe(125_000);
  });

  it('takes an asked burst in KiB, and refuses one below the device MTU', () => {
    expect(burstBytes(NetworkBandwidthParams.parse({ rateKbitPerSec: 2000, burstKb: 32 }), 1500)).toBe(
      32_768,
    );
    expect(() =>
      burstBytes(NetworkBandwidthParams.parse({ rateKbitPerSec: 2000, burstKb: 32 }), 65_536),
    ).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
