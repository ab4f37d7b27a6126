import { z } from 'zod';
import { ruleComment } from '../../net/iptables-rule.ts';
import { applyRules, revertRules, sweepAllRules } from '../../net/rule-fault.ts';
import { dropRules, needsHostOrPort, trafficMatchFields } from '../../net/traffic-match.ts';
import type { AgentFault } from '../agent-fault.ts';

export const NetworkLossParams = z
  .strictObject({
    /** Share of matching packets dropped, percent, 0 < percent ≤ 100; each packet is drawn on its own. */
    percent: z.number().gt(0).max(100),
    ...trafficMatchFields,
  })
  .refine(...needsHostOrPort);
export type NetworkLossParams = z.infer<typeof NetworkLossParams>;

/** The iptables `statistic` match that lets each packet through the DROP with probability 1 - percent/100. */
function lossRules(params: NetworkLossParams, comment: string) {
  const probability = String(params.percent / 100);
  return dropRules(params, comment, ['-m', 'statistic', '--mode', 'random', '--probability', probability]);
}

/**
 * Drops a random `percent` of matching packets (iptables `statistic --mode random`) in the
 * target's network namespace. TCP retransmits, so it slows streams rather than breaking them.
 */
export const networkLoss: AgentFault<NetworkLossParams> = {
  type: 'network-loss',
  targets: ['host', 'pid', 'container', 'netns'],
  summary: 'drops a random percent of packets to (or from) host/port with iptables; revert deletes the rules',
  params: NetworkLossParams,
  example: { percent: 50, host: '198.51.100.9', port: 9, protocol: 'udp', direction: 'out' }, // as network-blackhole's
  undo: (target, params, ctx) => ({
    target,
    rules: lossRules(params, ruleComment(ctx.agentId, ctx.faultId)),
  }),
  apply: (target, params, ctx) =>
    applyRules(target, lossRules(params, ruleComment(ctx.agentId, ctx.faultId)), ctx),
  revert: revertRules,
  sweep: sweepAllRules,
};
