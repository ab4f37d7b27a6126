import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { FaultlineError } from '../../protocol/errors.ts';
import { JournalEvent, RunEnding, type RunRecord } from '../../protocol/journal.ts';
import type { NewRun, RunEndUpdate, RunStore } from './run-store.ts';

/** Default store file, relative to the working directory. */
export const DEFAULT_STORE_PATH = '.faultline/faultline.db';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  run_id     TEXT PRIMARY KEY,
  experiment TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at   INTEGER,
  ending     TEXT,
  spec       TEXT NOT NULL,
  verdict    TEXT
);
CREATE TABLE IF NOT EXISTS journal (
  run_id TEXT NOT NULL REFERENCES runs(run_id),
  seq    INTEGER NOT NULL,
  at     INTEGER NOT NULL,
  type   TEXT NOT NULL,
  phase  TEXT,
  data   TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started_at DESC);
`;

interface RunRow {
  run_id: string;
  experiment: string;
  started_at: number;
  ended_at: number | null;
  ending: string | null;
  spec: string;
  verdict: string | null;
}

interface EventRow {
  run_id: string;
  seq: number;
  at: number;
  type: string;
  phase: string | null;
  data: string;
}

function toRun(row: RunRow): RunRecord {
  return {
    runId: row.run_id,
    experiment: row.experiment,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    ending: row.ending === null ? null : RunEnding.parse(row.ending),
    spec: JSON.parse(row.spec),
    verdict: row.verdict === null ? null : JSON.parse(row.verdict),
  };
}

/**
 * The run store in one sqlite file (node:sqlite, no native build). WAL mode with
 * `synchronous=FULL`: each journal append is fsynced before the call returns, which is what lets
 * the engine write an undo recipe before the fault it undoes is applied.
 */
export class SqliteRunStore implements RunStore {
  private readonly db: DatabaseSync;
  private readonly insertRun: StatementSync;
  private readonly insertEvent: StatementSync;
  private readonly lastSeq: StatementSync;
  private readonly updateRun: StatementSync;
  private readonly selectRun: StatementSync;
  private readonly selectRuns: StatementSync;
  private readonly selectEvents: StatementSync;

  /** @param path file path (its folder is created), or `:memory:` for tests. */
  constructor(path: string = DEFAULT_STORE_PATH) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    this.db.exec(SCHEMA);
    this.insertRun = this.db.prepare(
      'INSERT INTO runs (run_id, experiment, started_at, spec) VALUES (:runId, :experiment, :startedAt, :spec)',
    );
    this.insertEvent = this.db.prepare(
      'INSERT INTO journal (run_id, seq, at, type, phase, data) VALUES (:runId, :seq, :at, :type, :phase, :data)',
    );
    this.lastSeq = this.db.prepare('SELECT MAX(seq) AS seq FROM journal WHERE run_id = ?');
    this.updateRun = this.db.prepare(
      'UPDATE runs SET ended_at = :endedAt, ending = :ending, verdict = :verdict WHERE run_id = :runId',
    );
    this.selectRun = this.db.prepare('SELECT * FROM runs WHERE run_id = ?');
    this.selectRuns = this.db.prepare('SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?');
    this.selectEvents = this.db.prepare('SELECT * FROM journal WHERE run_id = ? ORDER BY seq');
  }

  async createRun(run: NewRun): Promise<void> {
    try {
      this.insertRun.run({
        runId: run.runId,
        experiment: run.experiment,
        startedAt: run.startedAt,
        spec: JSON.stringify(run.spec ?? null),
      });
    } catch (err) {
      throw new FaultlineError(
        'CONFLICT',
        `run ${run.runId} already exists`,
        { runId: run.runId },
        { cause: err },
      );
    }
  }

  async appendEvent(event: JournalEvent): Promise<void> {
    this.insertChecked(event);
  }

  async appendEvents(events: JournalEvent[]): Promise<void> {
    // One transaction = one fsync for the batch (the abort path writes several events at once).
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const e of events) this.insertChecked(e);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  private insertChecked(event: JournalEvent): void {
    const e = JournalEvent.parse(event);
    const last = (this.lastSeq.get(e.runId) as { seq: number | null } | undefined)?.seq ?? 0;
    if (e.seq !== last + 1) {
      throw new FaultlineError('CONFLICT', `journal of ${e.runId} expects seq ${last + 1}, got ${e.seq}`, {
        runId: e.runId,
        expected: last + 1,
        got: e.seq,
      });
    }
    this.insertEvent.run({
      runId: e.runId,
      seq: e.seq,
      at: e.at,
      type: e.type,
      phase: e.phase ?? null,
      data: JSON.stringify(e.data),
    });
  }

  async finishRun(runId: string, end: RunEndUpdate): Promise<void> {
    const r = this.updateRun.run({
      runId,
      endedAt: end.endedAt,
      ending: end.ending,
      verdict: JSON.stringify(end.verdict ?? null),
    });
    if (Number(r.changes) === 0)
      throw new FaultlineError('NOT_FOUND', `run ${runId} does not exist`, { runId });
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const row = this.selectRun.get(runId) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  async listRuns(opts: { limit?: number } = {}): Promise<RunRecord[]> {
    return (this.selectRuns.all(opts.limit ?? 100) as unknown as RunRow[]).map(toRun);
  }

  async events(runId: string): Promise<JournalEvent[]> {
    return (this.selectEvents.all(runId) as unknown as EventRow[]).map((r) =>
      JournalEvent.parse({
        runId: r.run_id,
        seq: r.seq,
        at: r.at,
        type: r.type,
        ...(r.phase === null ? {} : { phase: r.phase }),
        data: JSON.parse(r.data),
      }),
    );
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}
