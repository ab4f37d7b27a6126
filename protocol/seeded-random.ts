/**
 * Seeded pseudo-random numbers (mulberry32): fast, and the same seed gives the same sequence, so
 * a proxy fault's per-request decisions, the engine's choice of agents and an agent's choice of
 * containers can each be reproduced.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh seed when the caller gave none. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0xffffffff);
}

/** FNV-1a 32-bit hash, for sticky cohort assignment from a header value. */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
