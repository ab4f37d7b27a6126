import { z } from 'zod';
import { FaultlineError } from '../../protocol/errors.ts';

/** Parses request input with a zod schema; a mismatch is a 400 INVALID_INPUT listing the issues. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new FaultlineError('INVALID_INPUT', `invalid ${what}: ${z.prettifyError(parsed.error)}`, {
      issues: parsed.error.issues,
    });
  }
  return parsed.data;
}
