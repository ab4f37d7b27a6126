/** One RSS reading of a soaked process. */
export interface Reading {
  /** Seconds since the soak began. */
  tSec: number;
  /** Resident set size, bytes. */
  rss: number;
}

/**
 * The median reading among those taken in `[fromSec, fromSec + windowSec)`, or undefined when none
 * was. A window of a minute (twelve 5 s readings) outlasts the dips of a few readings that V8 and
 * malloc make when they give pages back, so neither end of a growth figure can land on one.
 * @param fromSec window start, s since the soak began
 * @param windowSec window length, s
 */
export function windowMedian(
  samples: readonly Reading[],
  fromSec: number,
  windowSec: number,
): Reading | undefined {
  const inWindow = samples.filter((r) => r.tSec >= fromSec && r.tSec < fromSec + windowSec);
  if (inWindow.length === 0) return undefined;
  // The upper median of an even count: a reading that was taken, not an average of two.
  return inWindow.sort((a, b) => a.rss - b.rss)[inWindow.length >> 1];
}
