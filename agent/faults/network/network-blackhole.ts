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
  // TEST-NET-1 (RFC 5737): nothing real lives there, so the example harms no traffic.
  example: { host: '192.0.2.1', port: 9, protocol: 'tcp', direction: 'out' },
  undo: (target, params, ctx) => ({
    target,
    rules: dropRules(params, ruleComment(ctx.agentId, ctx.faultId)),
  }),
  apply: (target, params, ctx) =>
    applyRules(target, dropRules(params, ruleComment(ctx.agentId, ctx.faultId)), ctx),
  revert: revertRules,
  sweep: sweepAllRules,
};
