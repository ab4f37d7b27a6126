/**
 * V8 flags the proxy process runs with. `faultline proxy` restarts itself with them (V8 reads heap
 * flags only when the process starts), and the benches start their proxy processes with them, so
 * the figures in bench/RESULTS.md are the product's. Details and more figures: docs/performance-notes.md.
 *
 * `--min-semi-space-size=64 --max-semi-space-size=64` (MB): a young generation of 2 × 64 MB that
 * never changes size.
 * - V8 starts it at 1 MB semi-spaces and grows it only as scavenges go by. A latency fault applied to
 *   a fresh or quiet proxy then met a scavenge every few milliseconds for ~2.5 s, each copying every
 *   exchange the delay was holding: a p99 spike after each apply.
 * - When it can change size, RSS moves with it: in a 1,000-connection soak it went 64 → 128 → 64 →
 *   128 MB and RSS 253 → 207 → 257 MiB. Each shrink is the memory reducer's; each regrowth costs
 *   6,600–19,000 page faults (6,600 took ~95 ms of CPU on the bench host).
 * - 64 MB is the size it grows to under load anyway. At 32 MB: 2 × the scavenges at 3,000 req/s
 *   (20 against 10 per 10 s, 4–5 ms against 5–7 ms each; scratch runs, both with
 *   `--single-threaded-gc`).
 *
 * `--heap-growing-percent=50`: after each full GC the old generation may grow to 1.5 × what survived
 * before the next one starts.
 * - V8 otherwise picks the factor, 1.1–4, from how fast its last full GC ran against how fast the
 *   program allocates. For the proxy's small (~25 MB) old generation it often picked 1.1–1.6, and
 *   kept it: a full GC every ~4 s under load for the life of the process (forced to 1.1: median
 *   per-run p99 50.9 ms against 11.8 ms at 4).
 * - Fixed, so no process picks its own. With the young generation fixed as above, even 1.05 gave
 *   one full GC per ~50 s of load at 3,000 req/s, not one every ~4 s. 1.5, not more, because the
 *   proxy promotes a steady ~40 bytes a request, so the old generation and RSS climb between full
 *   GCs: at 2 it went 25 → 57 MB over ~9 minutes of a 1,000 req/s soak.
 *
 * `--no-memory-reducer-favors-memory`: the memory reducer's full GCs are ordinary ones.
 * - The reducer runs a full GC when allocation slows and, as a watchdog, 100 s after the last one,
 *   even under load. By default that GC runs in reduce-memory mode and also gives the young
 *   generation's pages back: 12–133 ms paused, then the page faults above. Phases holding one at
 *   3,000 req/s had p99s of 146–224 ms; with this flag its pause was 11–24 ms.
 * - Without a fixed young generation this flag left it at its largest (2 × 64 MB) and the soak
 *   missed: HTTP RSS +11.6 %.
 *
 * `--incremental-marking-soft-trigger=20 --incremental-marking-hard-trigger=40` (% of the room the last
 * full GC left under the old generation's limit): start marking for the next full GC once 20 % of
 * that room is used, and at once from 40 %.
 * - V8's own rule starts marking whenever the room is smaller than the young generation (2 × 64 MB
 *   here), which after a full GC it always is. Under load the TCP proxy's full GCs then came close
 *   together: 3–4 per condition (three 10 s runs) in the latency bench at 14:33Z; 0–1 with these
 *   flags at 15:48Z (bench/RESULTS.md). Scratch A/B, 9,000 req/s through a 100 ms fault, 13 × 10 s
 *   phases each: 0 full GCs against 2.
 * - 20, not more: at 80/95 they cut TCP's full GCs as well (10 → 1 per six phases) but the HTTP soak
 *   grew 14.9 %, the old generation filling with garbage toward the trigger. At 20/40: +3.8 % (HTTP)
 *   and +0.1 % (TCP), against +5.3 % and −0.3 % without.
 *
 * Measured and not taken: `--single-threaded-gc`. At 3,000 req/s it looked cheaper (phases holding
 * a full GC: p99 108–119 ms against 105–149 ms, few samples), but in the latency bench, same host,
 * TCP at ~10,000 req/s: GC pauses totalled 206–543 ms per 10 s run, longest 52–85 ms, against
 * 105–115 ms and 9–25 ms without it. Why it costs more on one CPU was not measured.
 */
export const PROXY_NODE_FLAGS = [
  '--min-semi-space-size=64',
  '--max-semi-space-size=64',
  '--heap-growing-percent=50',
  '--no-memory-reducer-favors-memory',
  '--incremental-marking-soft-trigger=20',
  '--incremental-marking-hard-trigger=40',
] as const;

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
