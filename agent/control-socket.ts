import { rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { FaultlineError } from '../protocol/errors.ts';

/**
 * The local kill switch: a unix socket in the agent's state dir. A client writes one line
 * (`halt`, `resume` or `status`) and reads one JSON line back. Needs no controller.
 */

export const CONTROL_SOCKET = 'control.sock';
export const CONTROL_COMMANDS = ['halt', 'resume', 'status'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export interface ControlStatus {
  agentId: string;
  halted: boolean;
  activeFaults: string[];
  connected: boolean;
}

export type ControlHandler = (command: ControlCommand) => Promise<ControlStatus>;

export function controlSocketPath(stateDir: string): string {
  return join(stateDir, CONTROL_SOCKET);
}

/** Listens on `<stateDir>/control.sock` (a stale file from a crashed agent is replaced). */
export async function listenControl(stateDir: string, handle: ControlHandler): Promise<Server> {
  const path = controlSocketPath(stateDir);
  rmSync(path, { force: true });
  const server = createServer((socket) => {
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const command = buf.slice(0, nl).trim() as ControlCommand;
      if (!CONTROL_COMMANDS.includes(command)) {
        socket.end(`${JSON.stringify({ error: `unknown command ${command}` })}\n`);
        return;
      }
      handle(command).then(
        (status) => socket.end(`${JSON.stringify(status)}\n`),
        (err) => socket.end(`${JSON.stringify({ error: (err as Error).message })}\n`),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return server;
}

/** Sends one command to the agent owning `stateDir` and resolves its status after the command. */
export function sendControl(
  stateDir: string,
  command: ControlCommand,
  timeoutMs = 30_000,
): Promise<ControlStatus> {
  const path = controlSocketPath(stateDir);
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buf = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (c) => {
      buf += c;
    });
    socket.on('error', (err) =>
      reject(new FaultlineError('UNREACHABLE', `no agent answers on ${path}: ${err.message}`, { path })),
    );
    socket.on('end', () => {
      try {
        const reply = JSON.parse(buf);
        if (reply.error) reject(new FaultlineError('INTERNAL', reply.error, { path }));
        else resolve(reply as ControlStatus);
      } catch {
        reject(new FaultlineError('INTERNAL', `bad answer from ${path}: ${buf}`, { path }));
      }
    });
  });
}
