import { z } from 'zod';
import { ruleComment } from '../../net/iptables-rule.ts';
import { applyRules, revertRules, sweepAllRules } from '../../net/rule-fault.ts';
import { dropRules, needsHostOrPort, trafficMatchFields } from '../../net/traffic-match.ts';
import type { AgentFault } from '../agent-fault.ts';

export const NetworkBlackholeParams = z.strictObject(trafficMatchFields).refine(...needsHostOrPort);
export type NetworkBlackholeParams = z.infer<typeof NetworkBlackholeParams>;

/**
 * Drops every matching packet with iptables DROP rules in the target's network namespace, so
 * connections time out rather than being refused. Revert deletes the rules by their exact spec.
 */
export const networkBlackhole: AgentFault<NetworkBlackholeParams> = {
  type: 'network-blackhole',
  targets: ['host', 'pid', 'container', 'netns'],
  summary: 'drops every packet to (or from) host/port with iptables DROP rules; revert deletes them',
  params: NetworkBlackholeParams,
  // TEST-NET-2 (RFC 5737) and the discard port: the example harms no real traffic wherever it runs
  // (TEST-NET-1 is the default gateway of some test machines, so not that one).
  example: { host: '198.51.100.9', port: 9, protocol: 'tcp', direction: 'out' },
  undo: (target, params, ctx) => ({
    target,
    rules: dropRules(params, ruleComment(ctx.agentId, ctx.faultId)),
  }),
  apply: (target, params, ctx) =>
    applyRules(target, dropRules(params, ruleComment(ctx.agentId, ctx.faultId)), ctx),
  revert: revertRules,
  sweep: sweepAllRules,
};
