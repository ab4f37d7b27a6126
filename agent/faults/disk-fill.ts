import {
  appendFileSync,
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { FaultlineError } from '../../protocol/errors.ts';
import type { AgentFault, AgentFaultContext, Receipt, SweepContext } from './agent-fault.ts';

export const DiskFillParams = z
  .strictObject({
    /** Directory the fill file is written in; its filesystem is the one filled. */
    path: z.string().min(1),
    /** Bytes written, MiB. Give this or `percent`. */
    sizeMb: z.number().positive().max(16_777_216).optional(),
    /** Fill until the filesystem is this full, 1-100 percent of its size. Give this or `sizeMb`. */
    percent: z.number().min(1).max(100).optional(),
  })
  .refine((p) => (p.sizeMb === undefined) !== (p.percent === undefined), {
    message: 'give exactly one of sizeMb or percent',
  });
export type DiskFillParams = z.infer<typeof DiskFillParams>;

const FillReceipt = z.object({ file: z.string(), bytes: z.number().optional() });
const MB = 1024 * 1024;
/** Written in 1 MiB chunks of zeros; real blocks, not a sparse file, so the space is really taken. */
const CHUNK = Buffer.alloc(MB);
/** Every fill file this agent ever created, one JSON line each, for the sweep after a lost ledger. */
const RECORD_FILE = 'disk-fill.jsonl';

export function fillFileName(faultId: string): string {
  return `.faultline-fill-${faultId}`;
}

/** Bytes to write: `sizeMb`, or what takes the filesystem to `percent` used (0 when it is past that). */
function bytesToWrite(params: DiskFillParams): number {
  if (params.sizeMb !== undefined) return Math.round(params.sizeMb * MB);
  const fs = statfsSync(params.path);
  const total = fs.blocks * fs.bsize;
  const used = (fs.blocks - fs.bfree) * fs.bsize;
  return Math.max(0, Math.round((total * params.percent!) / 100 - used));
}

function removeFile(file: string): boolean {
  try {
    rmSync(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Writes a file of ours (`.faultline-fill-<faultId>`) of the asked size; revert removes it. */
export const diskFill: AgentFault<DiskFillParams> = {
  type: 'disk-fill',
  targets: ['host'],
  summary: 'writes a file of sizeMb (or up to percent full) in path; revert removes it',
  params: DiskFillParams,
  example: { path: '/tmp', sizeMb: 8 },
  undo: (_target, params, ctx) => ({ file: join(resolve(params.path), fillFileName(ctx.faultId)) }),
  async apply(target, params, ctx) {
    const file = join(resolve(params.path), fillFileName(ctx.faultId));
    const bytes = bytesToWrite(params);
    appendFileSync(join(ctx.stateDir, RECORD_FILE), `${JSON.stringify({ file })}\n`, { flush: true });
    let fd: number | undefined;
    try {
      fd = openSync(file, 'w');
      for (let left = bytes; left > 0; left -= MB) writeSync(fd, CHUNK, 0, Math.min(MB, left));
      fsyncSync(fd);
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      removeFile(file);
      throw new FaultlineError(
        'FAULT_APPLY_FAILED',
        `disk-fill could not write ${file}: ${(err as Error).message}`,
        {
          target,
          file,
        },
      );
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    return { file, bytes };
  },
  async revert(receipt: Receipt, _ctx: AgentFaultContext) {
    return removeFile(FillReceipt.parse(receipt).file) ? 'reverted' : 'vanished';
  },
  async sweep(ctx: SweepContext) {
    let lines: string[];
    try {
      lines = readFileSync(join(ctx.stateDir, RECORD_FILE), 'utf8').split('\n').filter(Boolean);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const line of lines) {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        continue; // a torn last line from a crash mid-append: the file was not created yet
      }
      const parsed = FillReceipt.safeParse(json);
      if (parsed.success && removeFile(parsed.data.file)) removed++;
    }
    rmSync(join(ctx.stateDir, RECORD_FILE), { force: true });
    return removed;
  },
};
