import { describe, expect, it } from 'vitest';
import { ruleComment, splitRuleLine } from './iptables-rule.ts';

describe('iptables rule helpers', () => {
  it('tags rules faultline:<agentId>:<faultId>', () => {
    expect(ruleComment('web-1', 'run-3:blackhole-0')).toBe('faultline:web-1:run-3:blackhole-0');
  });

  it('splits an iptables -S line into the words that delete the same rule, unquoting the comment', () => {
    const line =
      '-A OUTPUT -d 10.250.1.2/32 -p tcp -m tcp --dport 7001 -m comment --comment "faultline:a:f 1" -j DROP';
    expect(splitRuleLine(line)).toEqual([
      '-A',
      'OUTPUT',
      '-d',
      '10.250.1.2/32',
      '-p',
      'tcp',
      '-m',
      'tcp',
      '--dport',
      '7001',
      '-m',
      'comment',
      '--comment',
      'faultline:a:f 1',
      '-j',
      'DROP',
    ]);
  });

  it('keeps escaped quotes inside a quoted word', () => {
    expect(splitRuleLine('--comment "say \\"hi\\"" -j DROP')).toEqual([
      '--comment',
      'say "hi"',
      '-j',
      'DROP',
    ]);
  });
});
