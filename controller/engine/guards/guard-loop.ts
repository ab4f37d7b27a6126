import { abortableSleep } from '../abortable-sleep.ts';

/**
 * Calls `tick` every `everyMs` until `signal` aborts, on its own timer. Ticks never overlap: a tick
 * that takes longer than `everyMs` delays the next one rather than piling up.
 */
export async function guardLoop(
  everyMs: number,
  signal: AbortSignal,
  tick: () => Promise<void>,
): Promise<void> {
  let next = Date.now() + everyMs;
  while (!signal.aborted) {
    await abortableSleep(next - Date.now(), signal);
    if (signal.aborted) return;
    const started = Date.now();
    next = Math.max(next + everyMs, started + 1);
    try {
      await tick();
    } catch {
      // A guard that cannot read its signal counts the failure inside `tick`; the loop goes on.
    }
  }
}
