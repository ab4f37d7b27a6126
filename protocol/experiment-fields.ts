import { z } from 'zod';
import { Duration as DurationMs } from './duration.ts';

/**
 * Building blocks shared by the experiment file's parts (protocol/experiment.ts and its
 * experiment-*.ts pieces): names, URLs and durations, each with the message an author sees.
 */

/** Names used for probes, targets, steps and rollbacks (referenced by other fields). */
export const RefName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a name of 1-64 of A-Z a-z 0-9 _ . -');

export const HttpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

// The description is shown by editors (JSON Schema) and in "missing key" messages.
const DURATION_TEXT = 'a duration like 500ms, 10s or 2m, or a number of ms';

/** protocol/duration.ts's Duration (parsed to ms), described for editors and error messages. */
export const Duration = DurationMs.meta({ description: DURATION_TEXT });

/** A duration of at least `minMs` milliseconds. */
export function DurationAtLeast(minMs: number) {
  return DurationMs.refine((ms) => ms >= minMs, {
    message: `expected a duration of at least ${minMs}ms`,
  }).meta({ description: `${DURATION_TEXT}, at least ${minMs}ms` });
}
