import type { IncomingMessage } from 'node:http';
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

/**
 * HTTP/1.1 upgrade (WebSocket) pass-through: opens a raw socket to the upstream, replays the
 * request head, then pipes bytes both ways; the upstream's 101 (or refusal) reaches the client
 * as it is. Either side closing or failing tears down both. Returns the upstream socket.
 */
export function tunnelUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  target: TunnelTarget,
): Socket {
  const upstream = connect(target.port, target.host);
  const teardown = (): void => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', () => {
    if (!upstream.bytesRead && client.writable) {
      const error = new FaultlineError(
        'UPSTREAM_UNAVAILABLE',
        'upstream is unavailable for the upgrade',
        target,
      );
      const body = JSON.stringify(error.toBody());
      client.end(
        `HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    }
    upstream.destroy();
  });
  client.on('error', teardown);
  upstream.once('close', () => client.destroy());
  client.once('close', () => upstream.destroy());
  upstream.once('connect', () => {
    upstream.setNoDelay(true);
    upstream.write(requestHead(req));
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  return upstream;
}
