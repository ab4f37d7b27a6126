import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { AgentTarget, FaultId } from '../protocol/agent-wire.ts';

/**
 * The agent's undo log: an append-only JSON-lines file, every line fsync'd before the step it
 * records takes effect. `intent` (with the undo recipe) is durable before a fault acts; `applied`
 * adds the receipt; `reverted` closes the entry. A fault whose entry is not closed when the agent
 * starts is reverted by replay.
 */

const At = z.number(); // epoch ms

export const LedgerRecord = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('intent'),
    faultId: FaultId,
    faultType: z.string(),
    target: AgentTarget,
    params: z.unknown(),
    /** Receipt-shaped undo recipe: what revert needs when apply never finished. */
    undo: z.record(z.string(), z.unknown()),
    leaseMs: z.number(),
    at: At,
  }),
  z.object({
    op: z.literal('applied'),
    faultId: FaultId,
    receipt: z.record(z.string(), z.unknown()),
    at: At,
  }),
  z.object({
    op: z.literal('reverted'),
    faultId: FaultId,
    /** `revert`, `expired`, `halt`, `shutdown`, `replay`, `apply-failed`; `vanished` says nothing was there. */
    reason: z.string(),
    vanished: z.boolean().default(false),
    at: At,
  }),
]);
export type LedgerRecord = z.infer<typeof LedgerRecord>;
export type LedgerRecordInput = z.input<typeof LedgerRecord>;
export type IntentRecord = Extract<LedgerRecord, { op: 'intent' }>;

/** A fault whose entry is open: intent written, not reverted. */
export interface OpenEntry {
  intent: IntentRecord;
  receipt?: Record<string, unknown>;
}

export const LEDGER_FILE = 'ledger.jsonl';

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads records; a torn last line (crash mid-write) is skipped, as are lines that fail the schema. */
export function readLedger(file: string): LedgerRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const records: LedgerRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const parsed = LedgerRecord.safeParse(JSON.parse(line));
      if (parsed.success) records.push(parsed.data);
    } catch {
      // torn line
    }
  }
  return records;
}

/** Entries not closed by a `reverted` record, in intent order. */
export function openEntries(records: readonly LedgerRecord[]): OpenEntry[] {
  const open = new Map<string, OpenEntry>();
  for (const r of records) {
    if (r.op === 'intent') open.set(r.faultId, { intent: r });
    else if (r.op === 'applied') {
      const e = open.get(r.faultId);
      if (e) e.receipt = r.receipt;
    } else open.delete(r.faultId);
  }
  return [...open.values()];
}

/** The open ledger of one agent. Writes are synchronous and fsync'd: the caller acts only after they return. */
export class Ledger {
  readonly file: string;
  private fd: number;

  constructor(stateDir: string) {
    this.file = join(stateDir, LEDGER_FILE);
    fs.mkdirSync(stateDir, { recursive: true });
    const existed = fs.existsSync(this.file);
    this.fd = fs.openSync(this.file, 'a');
    if (!existed) fsyncDir(stateDir);
  }

  append(record: LedgerRecordInput): void {
    const line = `${JSON.stringify(LedgerRecord.parse(record))}\n`;
    fs.writeSync(this.fd, line);
    fs.fsyncSync(this.fd);
  }

  read(): LedgerRecord[] {
    return readLedger(this.file);
  }

  open(): OpenEntry[] {
    return openEntries(this.read());
  }

  /**
   * Rewrites the file with only the open entries (temp file, fsync, rename, fsync the directory),
   * so a crash during compaction leaves either the old file or the new one, never half of each.
   */
  compact(): void {
    const keep: LedgerRecordInput[] = [];
    for (const e of this.open()) {
      keep.push(e.intent);
      if (e.receipt)
        keep.push({ op: 'applied', faultId: e.intent.faultId, receipt: e.receipt, at: e.intent.at });
    }
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const r of keep) fs.writeSync(fd, `${JSON.stringify(r)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.closeSync(this.fd);
    fs.renameSync(tmp, this.file);
    fsyncDir(dirname(this.file));
    this.fd = fs.openSync(this.file, 'a');
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
