import type { Direction } from '../../protocol/proxy.ts';
import { DONE, type Stage, type TcpDirection } from './tcp-direction.ts';
import type { TcpCloseOutcome, TcpLink } from './tcp-fault.ts';

/** What a link needs from its connection. */
export interface LinkOwner {
  readonly closing: boolean;
  closeByFault(outcome: TcpCloseOutcome): void;
  resetByFault(): void;
}

// setTimeout takes at most 2^31-1 ms; longer waits are done in steps.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The link between one connection and one fault acting on it. Knows where in its direction's chain
 * the chunk being processed is, so `forward` continues from the next stage.
 */
export class FaultLink implements TcpLink {
  readonly direction: Direction;
  /** False once the fault was removed from the connection (or the connection closed). */
  attached = true;
  private readonly pipe: TcpDirection;
  private readonly owner: LinkOwner;
  private chain: readonly Stage[] = [];
  private index = 0;
  private at = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<() => void>();

  constructor(init: { direction: Direction; pipe: TcpDirection; owner: LinkOwner }) {
    this.direction = init.direction;
    this.pipe = init.pipe;
    this.owner = init.owner;
  }

  get active(): boolean {
    return this.attached && !this.owner.closing;
  }

  /** Called by the direction before handing this stage a chunk or the end. */
  enter(chain: readonly Stage[], index: number, at: number): void {
    this.chain = chain;
    this.index = index;
    this.at = at;
  }

  forward(data: Buffer): Promise<void> {
    if (this.owner.closing) return DONE;
    return this.pipe.runFrom(this.chain, this.index + 1, data, this.at);
  }

  end(): Promise<void> {
    if (this.owner.closing) return DONE;
    return this.pipe.endFrom(this.chain, this.index + 1);
  }

  close(outcome: TcpCloseOutcome = 'ok'): void {
    if (!this.owner.closing) this.owner.closeByFault(outcome);
  }

  reset(): void {
    if (!this.owner.closing) this.owner.resetByFault();
  }

  sleep(ms: number): Promise<void> {
    if (!(ms > 0) || !this.active) return DONE;
    const deadline = performance.now() + ms;
    return new Promise((resolve) => {
      this.waiters.add(resolve);
      // Node keeps timers in whole ms and truncates (a 99.6 ms wait fires at 99 ms), so waits are
      // rounded up: one timer per wait, not a second one for the last fraction of a ms. Timers may
      // still fire a little early against performance.now(); wait out the rest so a delay is never
      // shorter than asked.
      const tick = (): void => {
        this.timers.delete(timer);
        const left = deadline - performance.now();
        if (left > 0 && this.waiters.has(resolve)) {
          timer = setTimeout(tick, Math.min(Math.ceil(left), MAX_TIMER_MS));
          this.timers.add(timer);
          return;
        }
        this.waiters.delete(resolve);
        resolve();
      };
      let timer = setTimeout(tick, Math.min(Math.ceil(ms), MAX_TIMER_MS));
      this.timers.add(timer);
    });
  }

  hold(): Promise<void> {
    if (!this.active) return DONE;
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  setTimer(fn: () => void, ms: number): void {
    if (!this.active) return;
    void this.sleep(Math.max(ms, 0)).then(() => {
      if (this.active) fn();
    });
  }

  /** Detaches the fault from the connection: timers stop, every wait resolves at once. */
  release(): void {
    this.attached = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }
}
