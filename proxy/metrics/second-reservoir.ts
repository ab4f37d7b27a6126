/**
 * Up to `cap` raw latency samples of one second of traffic, chosen uniformly at random from all of
 * that second's exchanges (reservoir sampling, Algorithm R), kept with their arrival order. The
 * engine's rank tests need raw values spread over the whole window, not just its last moments, so
 * every second of a window contributes equally. Arrays are allocated on first use.
 */
export class SecondReservoir {
  /** Exchanges offered this second (kept or not). */
  seen = 0;
  private readonly cap: number;
  private values: Float64Array | null = null;
  /** Arrival index of each kept sample, to give them back in order. */
  private order: Uint32Array | null = null;

  constructor(cap: number) {
    this.cap = cap;
  }

  add(latencyMs: number): void {
    const i = this.seen++;
    if (this.cap === 0) return;
    if (this.values === null || this.order === null) {
      this.values = new Float64Array(this.cap);
      this.order = new Uint32Array(this.cap);
    }
    let slot = i;
    if (i >= this.cap) {
      slot = Math.floor(Math.random() * (i + 1));
      if (slot >= this.cap) return;
    }
    this.values[slot] = latencyMs;
    this.order[slot] = i;
  }

  reset(): void {
    this.seen = 0;
  }

  /** Appends the kept samples to `out`, oldest first. */
  appendTo(out: number[]): void {
    const n = Math.min(this.seen, this.cap);
    if (n === 0 || this.values === null || this.order === null) return;
    const values = this.values;
    if (this.seen <= this.cap) {
      for (let k = 0; k < n; k++) out.push(values[k]!);
      return;
    }
    const order = this.order;
    const slots = Array.from({ length: n }, (_, k) => k).sort((a, b) => order[a]! - order[b]!);
    for (const k of slots) out.push(values[k]!);
  }
}

/** Keeps at most `max` of `samples`, evenly spaced, in order. */
export function thin(samples: number[], max: number): number[] {
  if (samples.length <= max) return samples;
  const out: number[] = [];
  const step = samples.length / max;
  for (let k = 0; k < max; k++) out.push(samples[Math.floor(k * step)]!);
  return out;
}
