/**
 * V8 flags the proxy process runs with. `faultline proxy` restarts itself with them (V8 reads heap
 * flags only when the process starts), and the benches start their proxy processes with them, so
 * the figures in bench/RESULTS.md are the product's.
 *
 * `--min-semi-space-size=32` (MB): the young generation never shrinks below 2 × 32 MB.
 * - V8 otherwise starts it at 1 MB semi-spaces and grows it only as scavenges go by. A latency fault
 *   applied to a fresh or quiet proxy then met a scavenge every few milliseconds for ~2.5 s, each
 *   copying every exchange the delay was holding: a p99 spike after each apply.
 * - V8's memory reducer (built for idle browser tabs) shrank it when allocation slowed, and it grew
 *   back minutes later: RSS moved in ~25 MiB steps under steady keep-alive load, so a footprint
 *   reading said more about that cycle than about the load. 32 MB semi-spaces are what 1,000 req/s
 *   grew it to in a soak with a 16 MB floor.
 *
 * The maximum stays V8's default (64 MB semi-spaces on this machine): pinning it at 16 or 32 MB
 * made 1.5–3 × the scavenges at half of peak load. The memory reducer stays on: it is also what runs
 * full GCs on a lightly loaded proxy, and without it the old generation filled with garbage
 * (25 → 58 MB in 8 minutes at 1,000 req/s) before any full GC. Details: docs/ARCHITECTURE.md.
 */
export const PROXY_NODE_FLAGS = ['--min-semi-space-size=32'] as const;

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
