import { z } from 'zod';
import type { RuleSpec } from './iptables-rule.ts';

/**
 * Which packets a rule fault acts on. `host` is the peer (destination going out, source coming
 * in); `port` is the port the packets are addressed to (the remote service's port going out, the
 * local listening port coming in).
 */
export const trafficMatchFields = {
  /** Peer address, IPv4 or IPv6, single or CIDR (`10.0.0.7`, `10.0.0.0/24`, `fd00::/64`). Default: any. */
  host: z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]).optional(),
  /** Destination port of the matched packets, 1-65535. Default: any. */
  port: z.number().int().min(1).max(65_535).optional(),
  /** `tcp`, `udp` or `all` (with `port`: tcp and udp). Default `tcp`. */
  protocol: z.enum(['tcp', 'udp', 'all']).default('tcp'),
  /** `out` (packets this namespace sends) or `in` (packets it receives). Default `out`. */
  direction: z.enum(['out', 'in']).default('out'),
};

const TrafficMatch = z.strictObject(trafficMatchFields);
export type TrafficMatch = z.infer<typeof TrafficMatch>;

/** The refinement every rule fault's schema carries: a rule for "all traffic" is never what was meant. */
export const needsHostOrPort = [
  (p: { host?: string; port?: number }) => p.host !== undefined || p.port !== undefined,
  { message: 'give host, port or both (a fault on all traffic would cut the agent off too)' },
] as const;

/**
 * The DROP rules that express `match`, each tagged `comment`, with `extra` match arguments after
 * the address and port ones (e.g. the `statistic` match of a loss fault). Without `host` there is
 * one rule per address family, so IPv6 traffic to the port is caught as well.
 */
export function dropRules(match: TrafficMatch, comment: string, extra: readonly string[] = []): RuleSpec[] {
  const families: RuleSpec['family'][] =
    match.host === undefined ? ['ipv4', 'ipv6'] : [match.host.includes(':') ? 'ipv6' : 'ipv4'];
  const protocols: (string | undefined)[] =
    match.protocol !== 'all' ? [match.protocol] : match.port !== undefined ? ['tcp', 'udp'] : [undefined];
  const chain = match.direction === 'out' ? 'OUTPUT' : 'INPUT';
  const rules: RuleSpec[] = [];
  for (const family of families) {
    for (const protocol of protocols) {
      const args: string[] = [];
      if (protocol !== undefined) args.push('-p', protocol);
      if (match.host !== undefined) args.push(match.direction === 'out' ? '-d' : '-s', match.host);
      if (match.port !== undefined) args.push('--dport', String(match.port));
      rules.push({ family, chain, match: [...args, ...extra], comment });
    }
  }
  return rules;
}
