import { describe, expect, it } from 'vitest';
import { Duration, parseDurationMs } from './duration.ts';

describe('durations', () => {
  it('reads milliseconds, seconds, minutes and hours', () => {
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('10s')).toBe(10_000);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs(250)).toBe(250);
  });

  it('rejects words and negative numbers with a message that shows the input', () => {
    expect(parseDurationMs('fast')).toBeUndefined();
    expect(parseDurationMs(-1)).toBeUndefined();
    const r = Duration.safeParse('soon');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toContain('"soon"');
  });
});
