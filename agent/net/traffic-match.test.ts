import { describe, expect, it } from 'vitest';
import { dropRules } from './traffic-match.ts';

describe('dropRules', () => {
  it('matches the destination going out and the source coming in, with the port as --dport', () => {
    const out = dropRules({ host: '10.0.0.7', port: 5432, protocol: 'tcp', direction: 'out' }, 'c');
    expect(out).toEqual([
      {
        family: 'ipv4',
        chain: 'OUTPUT',
        match: ['-p', 'tcp', '-d', '10.0.0.7', '--dport', '5432'],
        comment: 'c',
      },
    ]);
    const inbound = dropRules({ host: '10.0.0.0/24', port: 80, protocol: 'tcp', direction: 'in' }, 'c');
    expect(inbound[0]).toMatchObject({
      chain: 'INPUT',
      match: ['-p', 'tcp', '-s', '10.0.0.0/24', '--dport', '80'],
    });
  });

  it('writes one rule per address family when no host narrows it, and ip6tables rules for an IPv6 host', () => {
    expect(dropRules({ port: 53, protocol: 'udp', direction: 'out' }, 'c').map((r) => r.family)).toEqual([
      'ipv4',
      'ipv6',
    ]);
    expect(
      dropRules({ host: 'fd00::/64', protocol: 'tcp', direction: 'out' }, 'c').map((r) => r.family),
    ).toEqual(['ipv6']);
  });

  it('turns protocol all with a port into a tcp and a udp rule, and without a port into one rule for every protocol', () => {
    const withPort = dropRules({ host: '10.0.0.1', port: 9, protocol: 'all', direction: 'out' }, 'c');
    expect(withPort.map((r) => r.match.slice(0, 2))).toEqual([
      ['-p', 'tcp'],
      ['-p', 'udp'],
    ]);
    const noPort = dropRules({ host: '10.0.0.1', protocol: 'all', direction: 'out' }, 'c');
    expect(noPort).toHaveLength(1);
    expect(noPort[0]!.match).toEqual(['-d', '10.0.0.1']);
  });

  it('puts extra match arguments after the address and port', () => {
    const [rule] = dropRules({ port: 9, protocol: 'udp', direction: 'in', host: '10.0.0.1' }, 'c', [
      '-m',
      'statistic',
    ]);
    expect(rule!.match.slice(-2)).toEqual(['-m', 'statistic']);
  });
});
