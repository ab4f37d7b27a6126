import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isUnknownQdiscKind, netemSupport } from './netem-support.ts';

describe('netem support', () => {
  it('agrees with the kernel config of this machine when it can be read', () => {
    if (!existsSync('/proc/config.gz')) {
      expect(['yes', 'unknown']).toContain(netemSupport());
      return;
    }
    const config = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
    const builtIn = /^CONFIG_NET_SCH_NETEM=y$/m.test(config) || existsSync('/sys/module/sch_netem');
    const absent = /^# CONFIG_NET_SCH_NETEM is not set$/m.test(config);
    if (builtIn) expect(netemSupport()).toBe('yes');
    else if (absent) expect(netemSupport()).toBe('no');
    else expect(['yes', 'no']).toContain(netemSupport()); // a module: yes when its file is there
  });

  it("recognises tc's answer for a qdisc kind the kernel lacks", () => {
    expect(isUnknownQdiscKind('Error: Specified qdisc kind is unknown.')).toBe(true);
    expect(isUnknownQdiscKind('RTNETLINK answers: File exists')).toBe(false);
  });
});
