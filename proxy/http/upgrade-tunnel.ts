import { type IncomingMessage, STATUS_CODES } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FaultlineError } from '../../protocol/errors.ts';

export interface TunnelTarget extends Record<string, unknown> {
  host: string;
  port: number;
}

/** The request head as bytes, replayed to the upstream with the client address in x-forwarded-for. */
function requestHead(req: IncomingMessage): string {
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  const raw = req.rawHeaders;
  let forwardedFor = '';
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'x-forwarded-for') {
      forwardedFor = forwardedFor ? `${forwardedFor}, ${raw[i + 1]}` : raw[i + 1]!;
      continue;
    }
    head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  const client = req.socket.remoteAddress;
  if (client) forwardedFor = forwardedFor ? `${forwardedFor}, ${client}` : client;
  if (forwardedFor) head += `x-forwarded-for: ${forwardedFor}\r\n`;
  return `${head}\r\n`;
}

/** Answers an upgrade the tunnel could not open with a Faultline error body, then closes the client. */
function answerError(client: Duplex, error: FaultlineError): void {
  const body = JSON.stringify(error.toBody());
  const status = error.statusCode;
  client.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  // The client socket is half-open (node:http servers allow it): close once the answer is flushed.
  (client as Socket).destroySoon?.();
}

/**
 * HTTP/1.1 upgrade (WebSocket) pass-through: opens a raw socket to the upstream, replays the
 * request head, then pipes bytes both ways; the upstream's 101 (or refusal) reaches the client
 * as it is. Either side closing or failing tears down both. When the upstream cannot be reached
 * the client is answered as an HTTP request would be: 504 UPSTREAM_TIMEOUT when the connect takes
 * longer than `connectTimeoutMs` (ms), 502 UPSTREAM_UNAVAILABLE for any other failure before the
 * upstream sent a byte. Returns the upstream socket.
 */
export function tunnelUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  target: TunnelTarget,
  connectTimeoutMs: number,
): Socket {
  const upstream = connect(target.port, target.host);
  let answered = false;
  let timedOut = false;
  const teardown = (): void => {
    client.destroy();
    upstream.destroy();
  };
  // net.connect has no timeout of its own: an upstream that drops SYNs would hold the client
  // for the kernel's ~2 min of retransmits.
  const connectTimer = setTimeout(() => {
    timedOut = true;
    upstream.destroy(new Error(`connect timed out after ${connectTimeoutMs} ms`));
  }, connectTimeoutMs);
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (!upstream.bytesRead && client.writable && !answered) {
      answered = true;
      answerError(
        client,
        timedOut
          ? new FaultlineError('UPSTREAM_TIMEOUT', 'upstream did not accept the upgrade in time', {
              ...target,
              cause: 'ETIMEDOUT',
              connectTimeoutMs,
            })
          : new FaultlineError('UPSTREAM_UNAVAILABLE', 'upstream is unavailable for the upgrade', {
              ...target,
              cause: err.code ?? err.message,
            }),
      );
    }
    upstream.destroy();
  });
  client.on('error', teardown);
  upstream.once('close', () => {
    clearTimeout(connectTimer);
    // An error answer closes the client itself, once flushed.
    if (!answered) client.destroy();
  });
  client.once('close', () => upstream.destroy());
  upstream.once('connect', () => {
    clearTimeout(connectTimer);
    upstream.setNoDelay(true);
    upstream.write(requestHead(req));
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  return upstream;
}
