import { z } from 'zod';
import { FaultlineError, isFaultlineError } from '../../../protocol/errors.ts';
import { isUnknownQdiscKind, netemSupport } from '../../net/netem-support.ts';
import { applyQdisc, qdiscUndo, revertQdisc, sweepAllQdiscs } from '../../net/qdisc-fault.ts';
import type { AgentFault } from '../agent-fault.ts';

export const NetworkLatencyParams = z
  .strictObject({
    /** Delay added to every packet leaving the device, ms, 1 to 60 000. */
    delayMs: z.number().int().min(1).max(60_000),
    /** Uniform spread around `delayMs`, ms (± jitterMs), at most delayMs. Default 0. */
    jitterMs: z.number().int().min(0).max(60_000).optional(),
  })
  .refine((p) => (p.jitterMs ?? 0) <= p.delayMs, { message: 'jitterMs must not exceed delayMs' });
export type NetworkLatencyParams = z.infer<typeof NetworkLatencyParams>;

function unsupported(detail: string): FaultlineError {
  return new FaultlineError(
    'UNSUPPORTED',
    `network-latency needs the kernel's sch_netem qdisc, which ${detail}; on this host inject latency with the proxy's \`latency\` fault (tcp: latency or http: latency in docs/faults.md) instead`,
    { qdisc: 'netem', use: 'proxy latency fault' },
  );
}

function netem(params: NetworkLatencyParams): string[] {
  const args = ['netem', 'delay', `${params.delayMs}ms`];
  if (params.jitterMs) args.push(`${params.jitterMs}ms`);
  return args;
}

/**
 * Delays every packet leaving the namespace's default-route device (or `lo`) with a netem root
 * qdisc. Kernels without sch_netem are refused with UNSUPPORTED before anything is changed.
 */
export const networkLatency: AgentFault<NetworkLatencyParams> = {
  type: 'network-latency',
  targets: ['host', 'pid', 'container', 'netns'],
  summary: 'delays egress packets by delayMs ± jitterMs with a netem root qdisc; needs sch_netem',
  params: NetworkLatencyParams,
  example: { delayMs: 100, jitterMs: 10 },
  undo: (target, _params, ctx) => qdiscUndo(target, undefined, ctx),
  async apply(target, params, ctx) {
    if (netemSupport() === 'no')
      throw unsupported('this kernel was built without (CONFIG_NET_SCH_NETEM is not set)');
    try {
      return await applyQdisc(target, undefined, () => netem(params), ctx);
    } catch (err) {
      if (isFaultlineError(err) && isUnknownQdiscKind(err.message))
        throw unsupported('this kernel does not have');
      throw err;
    }
  },
  revert: revertQdisc,
  sweep: sweepAllQdiscs,
};
