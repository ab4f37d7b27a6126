import { z } from 'zod';
import { FaultlineError } from '../../../protocol/errors.ts';
import { applyQdisc, qdiscUndo, revertQdisc, sweepAllQdiscs } from '../../net/qdisc-fault.ts';
import { DeviceName } from '../../net/root-qdisc.ts';
import type { AgentFault } from '../agent-fault.ts';

export const NetworkBandwidthParams = z.strictObject({
  /** Egress rate of the device, kbit/s (1 kbit = 1000 bit), 8 to 100 000 000 (100 Gbit/s). */
  rateKbitPerSec: z.number().int().min(8).max(100_000_000),
  /**
   * Token bucket size, KiB: how much may leave at full device speed after an idle spell. At least
   * the device MTU (a larger packet could never pass). Default: 10 ms worth of the rate, at least
   * 16 KiB and at least the MTU plus 1 KiB (`lo` has a 64 KiB MTU).
   */
  burstKb: z.number().int().min(2).max(1_048_576).optional(),
  /** Device shaped. Default: the namespace's default-route device, or `lo` when it has none. */
  device: DeviceName.optional(),
});
export type NetworkBandwidthParams = z.infer<typeof NetworkBandwidthParams>;

/** Packets may wait this long in the tbf queue before being dropped, ms: room for TCP to fill the rate without a loss storm. */
const QUEUE_LATENCY_MS = 400;

/** Bucket size, bytes, for a device of `mtuBytes`; INVALID_INPUT when an asked burst is below the MTU. */
export function burstBytes(params: NetworkBandwidthParams, mtuBytes: number): number {
  if (params.burstKb === undefined) {
    return Math.max(16 * 1024, mtuBytes + 1024, Math.round((params.rateKbitPerSec * 1000) / 8 / 100));
  }
  const bytes = params.burstKb * 1024;
  if (bytes < mtuBytes) {
    throw new FaultlineError(
      'INVALID_INPUT',
      `burstKb ${params.burstKb} is below the device MTU (${mtuBytes} bytes): tbf would drop every full-size packet`,
      { burstKb: params.burstKb, mtuBytes },
    );
  }
  return bytes;
}

/** The tbf qdisc arguments; tc reads `kbit` as 1000 bit/s and a bare burst as bytes. */
function tbf(params: NetworkBandwidthParams, mtuBytes: number): string[] {
  return [
    'tbf',
    'rate',
    `${params.rateKbitPerSec}kbit`,
    'burst',
    String(burstBytes(params, mtuBytes)),
    'latency',
    `${QUEUE_LATENCY_MS}ms`,
  ];
}

/**
 * Limits a device's egress rate with a tbf root qdisc (handle of this agent) in the target's
 * namespace. Refuses (CONFLICT) when the device has a root qdisc other than the kernel default;
 * revert deletes ours and the kernel default comes back.
 */
export const networkBandwidth: AgentFault<NetworkBandwidthParams> = {
  type: 'network-bandwidth',
  targets: ['host', 'pid', 'container', 'netns'],
  summary: 'limits a device egress rate to rateKbitPerSec with a tbf root qdisc; revert deletes it',
  params: NetworkBandwidthParams,
  // The veth of test/support/netns-lab.ts's first namespace, which no real host has: applied on a
  // host by mistake, the example fails with "no device" instead of shaping the host's lo or uplink.
  example: { rateKbitPerSec: 10_000, device: 'fl-lab-a' },
  undo: (target, params, ctx) => qdiscUndo(target, params.device, ctx),
  apply: (target, params, ctx) => applyQdisc(target, params.device, (mtu) => tbf(params, mtu), ctx),
  revert: revertQdisc,
  sweep: sweepAllQdiscs,
};
