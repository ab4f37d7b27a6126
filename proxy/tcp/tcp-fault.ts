import type { Direction } from '../../protocol/proxy.ts';
import type { Outcome } from '../metrics/metrics-sink.ts';

/** Bytes read from one side of a connection, on their way to the other side. */
export interface TcpChunk {
  readonly data: Buffer;
  /** performance.now() when the proxy read these bytes, ms. Pieces of a chunk keep its time. */
  readonly at: number;
}

/** How a fault may end a connection gracefully (both sides get a FIN). */
export type TcpCloseOutcome = Extract<Outcome, 'ok' | 'timeout'>;

/**
 * What one fault sees of one connection, in its own direction. Timers and waits are tied to
 * the (connection, fault) pair: they end when the connection closes or the fault is removed.
 */
export interface TcpLink {
  readonly direction: Direction;
  /** False once the connection is closing or this fault was removed from it. */
  readonly active: boolean;
  /**
   * Passes bytes on to the next fault of the chain, or to the other side. Always await it before
   * forwarding more: it resolves once the bytes left this direction (or were dropped on close).
   */
  forward(data: Buffer): Promise<void>;
  /**
   * `forward(data)` after at least `ms` (performance.now()): settles as forward's promise does. If
   * the link stops being active first, the bytes go on at once (dropped if the connection closed).
   */
  forwardAfter(ms: number, data: Buffer): Promise<void>;
  /** Passes the end of the stream (a FIN) on, from `onEnd`. */
  end(): Promise<void>;
  /** Closes both sides gracefully; queued bytes not yet forwarded are dropped. */
  close(outcome?: TcpCloseOutcome): void;
  /** Sends a real TCP RST to the client and destroys the upstream side. */
  reset(): void;
  /** Resolves after at least `ms` (performance.now()), or at once when the link stops being active. */
  sleep(ms: number): Promise<void>;
  /** Resolves only when the link stops being active (fault removed, or connection closing). */
  hold(): Promise<void>;
  /** Runs `fn` after `ms` unless the link stopped being active first. */
  setTimer(fn: () => void, ms: number): void;
}

/**
 * One fault's state on one connection. Chunks of a direction reach it strictly one at a time, in
 * order; the next chunk waits until the returned promise settles.
 */
export interface TcpFaultSession {
  /** Must forward (awaiting each call) whatever should go on; bytes not forwarded are dropped. */
  onChunk(chunk: TcpChunk, link: TcpLink): void | Promise<void>;
  /** The source ended (FIN). Absent = pass the end on at once; present = call `link.end()` to pass it. */
  onEnd?(link: TcpLink): void | Promise<void>;
}

/** A fault acting on each connection's bytes in one direction. */
export interface TcpConnectionFault {
  readonly scope: 'connection';
  /**
   * Called the first time a connection meets the fault and is admitted (`percent`, `maxConcurrent`):
   * when the connection opens, or when the fault is applied while it is open. Must not close or
   * reset synchronously; use `link.setTimer` for anything timed from this moment.
   */
  open(link: TcpLink): TcpFaultSession;
}

/** A fault acting on the proxy's listening socket rather than on connections (`refuse`). */
export interface TcpListenerFault {
  readonly scope: 'listener';
  /** While active, the listener closes its listening socket so connects are refused. */
  readonly refusesConnections: true;
}

/** The behaviour of one TCP fault (`FaultDefinition<P, TcpFault>.create`). */
export type TcpFault = TcpConnectionFault | TcpListenerFault;
