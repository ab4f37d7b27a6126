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
 * One pending wait of a link (`sleep`, `hold`, `forwardAfter`). Kept in a doubly linked list, not
 * Sets: a wait per delayed chunk made two Sets grow and shrink for every chunk, ~9 % of what the
 * TCP proxy allocated under a latency fault.
 */
class Wait {
  prev: Wait | undefined;
  next: Wait | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Bytes to forward when the wait ends (`forwardAfter`); undefined for a plain wait. */
  data: Buffer | undefined;
  readonly link: FaultLink;
  /** performance.now() at which the wait is over, ms; Infinity for `hold`. */
  readonly deadline: number;
  readonly resolve: (value: void | Promise<void>) => void;

  constructor(link: FaultLink, deadline: number, resolve: (value: void | Promise<void>) => void) {
    this.link = link;
    this.deadline = deadline;
    this.resolve = resolve;
  }
}

/** Module-level so a wait's timer costs a Timeout and no closure. */
function onWaitTimer(wait: Wait): void {
  wait.link.tick(wait);
}

/**
 * Arms a wait's timer for `ms`. Node keeps timers in whole ms and truncates (a 99.6 ms wait fires at
 * 99 ms), so waits are rounded up: one timer per wait, not a second one for the last fraction.
 */
function armWait(wait: Wait, ms: number): void {
  wait.timer = setTimeout(onWaitTimer, Math.min(Math.ceil(ms), MAX_TIMER_MS), wait);
}

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
  private first: Wait | undefined;
  private last: Wait | undefined;

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

  /**
   * Forwards `data` after at least `ms` (performance.now()); settles as `forward` does. Released
   * before then (fault removed), the bytes go on at once. The latency fault's whole job, without a
   * closure and a second promise per chunk.
   */
  forwardAfter(ms: number, data: Buffer): Promise<void> {
    if (!(ms > 0) || !this.active) return this.forward(data);
    return new Promise((resolve) => {
      this.wait(performance.now() + ms, resolve, ms).data = data;
    });
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
    return new Promise((resolve) => {
      this.wait(performance.now() + ms, resolve, ms);
    });
  }

  hold(): Promise<void> {
    if (!this.active) return DONE;
    return new Promise((resolve) => {
      this.wait(Number.POSITIVE_INFINITY, resolve, 0);
    });
  }

  setTimer(fn: () => void, ms: number): void {
    if (!this.active) return;
    void this.sleep(Math.max(ms, 0)).then(() => {
      if (this.active) fn();
    });
  }

  /** Detaches the fault from the connection: timers stop, every wait ends at once. */
  release(): void {
    this.attached = false;
    let w = this.first;
    this.first = this.last = undefined;
    // Unlinked first, then ended: what a wait's end runs cannot touch the list being walked.
    const ended: Wait[] = [];
    for (; w; w = w.next) {
      clearTimeout(w.timer);
      ended.push(w);
    }
    for (const e of ended) {
      e.prev = e.next = undefined;
      const data = e.data;
      e.data = undefined;
      // Held bytes go on after the caller (a fault being removed, mid-way through syncing a
      // connection's faults) is done, as a wait's end always did.
      if (data === undefined) e.resolve();
      else e.resolve(DONE.then(() => this.forward(data)));
    }
  }

  /** A wait's timer fired: ends it, or re-arms for what is left (timers can fire a little early). */
  tick(w: Wait): void {
    w.timer = undefined;
    if (w.prev === undefined && this.first !== w) return; // released meanwhile
    const left = w.deadline - performance.now();
    if (left > 0) {
      armWait(w, left);
      return;
    }
    this.unlink(w);
    this.finish(w);
  }

  /** Lists a wait and, for a finite one (`ms` > 0), arms its timer. */
  private wait(deadline: number, resolve: (value: void | Promise<void>) => void, ms: number): Wait {
    const w = new Wait(this, deadline, resolve);
    w.prev = this.last;
    if (this.last) this.last.next = w;
    else this.first = w;
    this.last = w;
    if (ms > 0) armWait(w, ms);
    return w;
  }

  private unlink(w: Wait): void {
    if (w.prev) w.prev.next = w.next;
    else this.first = w.next;
    if (w.next) w.next.prev = w.prev;
    else this.last = w.prev;
    w.prev = w.next = undefined;
  }

  /** Ends a wait whose time is up: forwards its bytes (if any) now, from the timer. */
  private finish(w: Wait): void {
    const data = w.data;
    w.data = undefined;
    if (data === undefined) {
      w.resolve();
      return;
    }
    let sent: Promise<void>;
    try {
      sent = this.forward(data);
    } catch (err) {
      // A later fault threw: hand it to the direction as a rejection, not to the timer (a crash).
      sent = Promise.reject(err);
    }
    if (sent === DONE) w.resolve();
    else w.resolve(sent);
  }
}
