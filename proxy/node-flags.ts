/**
 * V8 flags the proxy process runs with. `faultline proxy` restarts itself with them (V8 reads heap
 * flags only when the process starts), and the benches start their proxy processes with them, so
 * the figures in bench/RESULTS.md are the product's. Details: docs/ARCHITECTURE.md.
 *
 * `--min-semi-space-size=32` (MB): the young generation never shrinks below 2 × 32 MB.
 * - V8 otherwise starts it at 1 MB semi-spaces and grows it only as scavenges go by. A latency fault
 *   applied to a fresh or quiet proxy then met a scavenge every few milliseconds for ~2.5 s, each
 *   copying every exchange the delay was holding: a p99 spike after each apply.
 * - Without a floor, the memory reducer also shrank it when allocation slowed and it grew back
 *   minutes later: RSS moved in ~25 MiB steps under steady keep-alive load. 32 MB semi-spaces are
 *   what 1,000 req/s grew it to in a soak with a 16 MB floor.
 * - The maximum stays V8's default (64 MB semi-spaces on this machine): pinning it at 16 or 32 MB
 *   made 1.5–3 × the scavenges at half of peak load.
 *
 * `--heap-growing-percent=100`: after each full GC the old generation may grow to 2 × what survived
 * (plus the young generation's size) before the next one starts.
 * - V8 otherwise picks the factor, 1.1–4, from how fast its last full GC ran against how fast the
 *   program allocates. The proxy's old generation is small (~25 MB), so a full GC can look cheap and
 *   get 1.1–1.6. V8 starts marking once the heap is within one young generation of its limit, so
 *   a few MB promoted (0.1–0.6 × 25 MB) started the next full GC: one every ~4.3 s under load, and
 *   each recomputed the same small factor. Which way a process went was chance.
 * - Two proxies side by side at 8,000 req/s (TCP, 10 s runs in turn): forced to 1.1, 26 full GCs in
 *   216 s and a median per-run p99 of 50.9 ms; at 4, 3 full GCs and 11.8 ms. Factor 2 against 4 in
 *   the same way: 3 full GCs each, median per-run p99 14.6 against 15.2 ms.
 * - 2 rather than 4: by the formula above, the old generation then holds at most ~1 × its live size
 *   of garbage, not ~3 ×. At either, the HTTP proxy's RSS in the 10-minute soak climbed ~5 MiB a
 *   minute from 300 s to the end (bench/RESULTS.md, memory-soak).
 *
 * The memory reducer stays as V8 has it. It runs a full GC when allocation slows, and in any case
 * 100 s after the last one (a watchdog), so a loaded proxy gets one every ~100 s. That GC also gives
 * the young generation's pages back to the OS: under load a 29–133 ms pause, then ~6,600 page faults
 * (~95 ms of CPU on this host) to take them back. Measured and not taken:
 * - `--no-memory-reducer-favors-memory` makes it an ordinary full GC (7–25 ms, no page faults), but
 *   the process then keeps every page it grows to: with the factor at 4, HTTP RSS grew 11.6 % in
 *   the 10-minute soak (target < 10 %) while its V8 heap after a forced GC was 32.9 MiB.
 * - `--no-memory-reducer` also stops the full GCs a lightly loaded proxy gets: its old generation
 *   filled with garbage (25 → 58 MB in 8 minutes at 1,000 req/s).
 */
export const PROXY_NODE_FLAGS = ['--min-semi-space-size=32', '--heap-growing-percent=100'] as const;

/** `--no-memory-reducer` → `memory-reducer`; `--min-semi-space-size=16` → `min-semi-space-size`. */
function flagName(arg: string): string {
  return arg
    .replace(/^--(no-)?/, '')
    .replace(/=.*$/, '')
    .replaceAll('_', '-');
}

/**
 * The flags in `wanted` that `given` (a process's `execArgv`) does not already set either way.
 * A flag the user passed (`node --min-semi-space-size=4 …`, `--memory-reducer`) wins over ours.
 */
export function missingNodeFlags(wanted: readonly string[], given: readonly string[]): string[] {
  const set = new Set(given.filter((a) => a.startsWith('--')).map(flagName));
  return wanted.filter((f) => !set.has(flagName(f)));
}
