import { describe, expect, it } from 'vitest';
import { missingNodeFlags, PROXY_NODE_FLAGS } from './node-flags.ts';

const WANTED = ['--min-semi-space-size=32', '--no-memory-reducer'];

describe('missingNodeFlags', () => {
  it('returns every wanted flag when the process was started without any', () => {
    expect(missingNodeFlags(PROXY_NODE_FLAGS, [])).toEqual([...PROXY_NODE_FLAGS]);
    expect(missingNodeFlags(WANTED, ['--no-deprecation'])).toEqual(WANTED);
  });

  it('returns nothing once the process runs with the flags, so a restart cannot loop', () => {
    expect(missingNodeFlags(PROXY_NODE_FLAGS, ['--no-deprecation', ...PROXY_NODE_FLAGS])).toEqual([]);
  });

  it('leaves a flag alone when the user set it either way or to another value', () => {
    expect(missingNodeFlags(WANTED, ['--memory-reducer', '--min_semi_space_size=4'])).toEqual([]);
    expect(missingNodeFlags(WANTED, ['--max-semi-space-size=8'])).toEqual(WANTED);
  });

  it('ignores arguments that are not flags', () => {
    expect(missingNodeFlags(WANTED, ['memory-reducer'])).toEqual(WANTED);
  });
});
