import { describe, expect, it } from 'vitest';
import { type Reading, windowMedian } from './rss-window.ts';

const readings = (from: number, rss: number[]): Reading[] =>
  rss.map((r, i) => ({ tSec: from + i * 5, rss: r }));

describe('windowMedian', () => {
  it('ignores a dip of a few readings inside a one-minute window', () => {
    const flat = readings(180, [250, 251, 234, 233, 250, 251, 250, 252, 251, 250, 251, 250]);
    expect(windowMedian(flat, 180, 60)?.rss).toBe(250);
  });

  it('takes only the readings inside the window, which starts at fromSec and ends before fromSec + windowSec', () => {
    const series = readings(0, [100, 100, 200, 200, 200, 300]);
    expect(windowMedian(series, 10, 15)).toEqual({ tSec: 15, rss: 200 });
    expect(windowMedian(series, 25, 60)).toEqual({ tSec: 25, rss: 300 });
  });

  it('gives nothing for a window no reading fell in', () => {
    expect(windowMedian(readings(0, [1, 2, 3]), 100, 60)).toBeUndefined();
  });
});
