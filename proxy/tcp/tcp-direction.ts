import type { Socket } from 'node:net';
import type { Direction } from '../../protocol/proxy.ts';
import type { ActiveFault } from '../active-fault.ts';
import { type ChunkReader, readChunks } from './chunk-reader.ts';
import type { FaultLink } from './fault-link.ts';
import type { TcpChunk, TcpFaultSession } from './tcp-fault.ts';

/** Bytes waiting in a direction's fault chain at which its source socket is paused. */
export const QUEUE_HIGH_WATER_BYTES = 256 * 1024;
/** Bytes waiting at or below which a paused source is resumed. */
export const QUEUE_LOW_WATER_BYTES = 64 * 1024;

/** One fault acting on one direction of one connection. */
export interface Stage {
  readonly fault: ActiveFault;
  readonly session: TcpFaultSession;
  readonly link: FaultLink;
}

/** What a direction needs from its connection: byte counters and whether it is closing. */
export interface PipeOwner {
  readonly closing: boolean;
  /** Bytes read from the client. */
  bytesIn: number;
  /** Bytes written to the client. */
  bytesOut: number;
  /** A fault threw: a bug, not a fault effect. */
  onFaultError(err: unknown): void;
}

export const NO_STAGES: readonly Stage[] = Object.freeze([]);
/** The one already-settled promise: chain steps return it when they finished synchronously. */
export const DONE: Promise<void> = Promise.resolve();
const END = Symbol('end');
type Item = TcpChunk | typeof END;

/**
 * The bytes of one direction of a connection (client → upstream, or upstream → client).
 * With no fault on the direction, reads are written straight through (socket backpressure only,
 * no allocation per chunk). With faults, chunks queue with their arrival time and go through the
 * chain one at a time; the source is paused while too much waits.
 */
export class TcpDirection {
  readonly direction: Direction;
  /** Faults acting now, in apply order. Replaced (never mutated) by the connection. */
  stages: readonly Stage[] = NO_STAGES;
  private readonly source: Socket;
  private readonly dest: Socket;
  private readonly owner: PipeOwner;
  private readonly fromClient: boolean;
  private queue: Item[] = [];
  private head = 0;
  private queuedBytes = 0;
  /** Bytes of the item the chain is working on, counted in queuedBytes until it is through. */
  private inFlightBytes = 0;
  private running = false;
  private drainWaiter: (() => void) | undefined;

  constructor(init: {
    direction: Direction;
    source: Socket;
    /** The source's `onread` reader; without one the source is read by 'data' events. */
    reader?: ChunkReader | undefined;
    dest: Socket;
    owner: PipeOwner;
  }) {
    this.direction = init.direction;
    this.source = init.source;
    this.dest = init.dest;
    this.owner = init.owner;
    this.fromClient = init.direction === 'upstream';
    readChunks(this.source, init.reader, this.onData);
    this.source.on('end', this.onEnd);
    this.dest.on('drain', this.onDrain);
  }

  /** Stops waiting for the destination; called when the connection closes. */
  abort(): void {
    const w = this.drainWaiter;
    this.drainWaiter = undefined;
    w?.();
  }

  private readonly onData = (data: Buffer): void => {
    const owner = this.owner;
    if (owner.closing) return;
    if (this.fromClient) owner.bytesIn += data.length;
    if (this.running) {
      this.enqueue({ data, at: performance.now() }, data.length);
      return;
    }
    if (this.stages.length === 0) {
      if (!this.fromClient) owner.bytesOut += data.length;
      if (!this.dest.write(data)) this.source.pause();
      return;
    }
    this.process(data, performance.now());
  };

  private readonly onEnd = (): void => {
    if (this.owner.closing) return;
    if (this.running) this.enqueue(END, 0);
    else if (this.stages.length === 0) this.dest.end();
    else this.process(END, 0);
  };

  private readonly onDrain = (): void => {
    this.abort();
    this.maybeResume();
  };

  private enqueue(item: Item, bytes: number): void {
    this.queue.push(item);
    this.queuedBytes += bytes;
    if (this.queuedBytes >= QUEUE_HIGH_WATER_BYTES) this.source.pause();
  }

  private maybeResume(): void {
    if (
      this.queuedBytes <= QUEUE_LOW_WATER_BYTES &&
      !this.owner.closing &&
      !this.dest.writableNeedDrain &&
      this.source.isPaused()
    ) {
      this.source.resume();
    }
  }

  private runItem(item: Buffer | typeof END, at: number): Promise<void> {
    return item === END ? this.endFrom(this.stages, 0) : this.runFrom(this.stages, 0, item, at);
  }

  /**
   * Runs one item through the chain as it is now. Most chains (a 0 ms delay, a pass-through)
   * finish synchronously and cost no queue or promise; otherwise the direction stays busy, and
   * later items queue, until this one is through.
   */
  private process(item: Buffer | typeof END, at: number): void {
    let pending: Promise<void>;
    try {
      pending = this.runItem(item, at);
    } catch (err) {
      this.owner.onFaultError(err);
      return;
    }
    if (pending === DONE) return;
    this.running = true;
    this.waitForItem(pending, item === END ? 0 : item.length);
  }

  /**
   * Waits for the item in progress; its bytes count as queued until it is through. A `.then` with
   * handlers bound once, not an async loop: that cost a generator and two promises per delayed chunk.
   */
  private waitForItem(pending: Promise<void>, bytes: number): void {
    this.inFlightBytes = bytes;
    this.queuedBytes += bytes;
    pending.then(this.onItemDone, this.onItemFailed);
  }

  /** The item in progress is through: takes queued items one at a time, each with the chain current when it starts. */
  private readonly onItemDone = (): void => {
    this.queuedBytes -= this.inFlightBytes;
    this.inFlightBytes = 0;
    this.maybeResume();
    try {
      while (this.head < this.queue.length && !this.owner.closing) {
        const item = this.queue[this.head]!;
        this.queue[this.head++] = END;
        const bytes = item === END ? 0 : item.data.length;
        this.queuedBytes -= bytes;
        const done = item === END ? this.runItem(END, 0) : this.runItem(item.data, item.at);
        if (done !== DONE) {
          this.waitForItem(done, bytes);
          return;
        }
        if (bytes > 0) this.maybeResume();
      }
    } catch (err) {
      this.owner.onFaultError(err);
    }
    this.idle();
  };

  private readonly onItemFailed = (err: unknown): void => {
    this.owner.onFaultError(err);
    this.idle();
  };

  private idle(): void {
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.inFlightBytes = 0;
    this.running = false;
  }

  /** Hands bytes to stage `index` (skipping faults removed meanwhile), or writes them out after the last. */
  runFrom(chain: readonly Stage[], index: number, data: Buffer, at: number): Promise<void> {
    for (let i = index; i < chain.length; i++) {
      const stage = chain[i]!;
      if (!stage.link.attached) continue;
      stage.link.enter(chain, i, at);
      return stage.session.onChunk({ data, at }, stage.link) ?? DONE;
    }
    return this.write(data);
  }

  /** Hands the end of the stream to stage `index`, or ends the destination after the last. */
  endFrom(chain: readonly Stage[], index: number): Promise<void> {
    for (let i = index; i < chain.length; i++) {
      const stage = chain[i]!;
      if (!stage.link.attached || !stage.session.onEnd) continue;
      stage.link.enter(chain, i, performance.now());
      return stage.session.onEnd(stage.link) ?? DONE;
    }
    if (!this.owner.closing) this.dest.end();
    return DONE;
  }

  private write(data: Buffer): Promise<void> {
    const owner = this.owner;
    if (owner.closing) return DONE;
    if (!this.fromClient) owner.bytesOut += data.length;
    if (this.dest.write(data)) return DONE;
    return new Promise((resolve) => {
      this.drainWaiter = resolve;
    });
  }
}
