import type { ProgressEvent } from '../controller/engine/run-context.ts';
import type { RunPhase } from '../protocol/journal.ts';
import type { Verdict } from '../protocol/verdict.ts';

/** Options of {@link RunProgress}. */
export interface RunProgressOptions {
  stream: NodeJS.WriteStream;
  experiment: string;
  runId: string;
  /** Redraw period on a TTY, ms. Default 200. */
  redrawMs?: number;
}

interface GuardLine {
  ok: boolean;
  failures: number;
  detail: string;
}

const BAR_WIDTH = 16;

function bar(fraction: number): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * Shows a run as it goes: on a TTY a block redrawn in place (phase, elapsed, ramp bar per stage,
 * one line per guard); otherwise one plain line per change, so logs and pipes stay readable.
 */
export class RunProgress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly startedAt = Date.now();
  private readonly header: string;
  private phase: RunPhase = 'planned';
  private ramp: Extract<ProgressEvent, { type: 'ramp' }> | null = null;
  private readonly guards = new Map<string, GuardLine>();
  private rampFrozenAt: number | null = null;
  private drawnLines = 0;
  private timer: NodeJS.Timeout | null = null;
  private finished = false;

  constructor(opts: RunProgressOptions) {
    this.stream = opts.stream;
    this.tty = opts.stream.isTTY === true;
    this.header = `faultline run ${opts.experiment} (${opts.runId})`;
    if (this.tty) {
      this.timer = setInterval(() => this.draw(), opts.redrawMs ?? 200);
      this.timer.unref();
    } else {
      this.line(this.header);
    }
  }

  onProgress(e: ProgressEvent): void {
    if (e.type === 'phase') {
      this.phase = e.phase;
      if (
        (e.phase === 'reverting' || e.phase === 'steady-state-after') &&
        this.ramp &&
        this.rampFrozenAt === null
      ) {
        this.rampFrozenAt = e.at;
      }
      this.line(`phase ${e.phase}`);
    } else if (e.type === 'ramp') {
      this.ramp = e;
      this.line(`ramp stage ${e.stage}/${e.of}: ${e.percent}%`);
    } else if (e.type === 'guard') {
      const before = this.guards.get(e.guard);
      this.guards.set(e.guard, { ok: e.ok, failures: e.failures, detail: e.detail });
      if (!before || before.ok !== e.ok)
        this.line(`guard ${e.guard}: ${e.ok ? 'ok' : `FAILING (${e.failures}) ${e.detail}`}`);
    } else if (e.type === 'fault') {
      this.line(`fault ${e.faultId} ${e.status}`);
    }
  }

  /** Stops redrawing and leaves the last frame on screen. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    if (this.tty) this.draw();
  }

  private line(text: string): void {
    if (this.tty) return;
    this.stream.write(`[${seconds(Date.now() - this.startedAt).padStart(7)}] ${text}\n`);
  }

  private draw(): void {
    const lines = [
      this.header,
      `  phase ${this.phase.padEnd(20)} elapsed ${seconds(Date.now() - this.startedAt)}`,
    ];
    if (this.ramp) {
      // One bar per stage: done stages full, the current one filling, later ones empty. The bars
      // freeze once reverting starts (the ramp is over, whatever stage it reached).
      const r = this.ramp;
      const now = this.rampFrozenAt ?? Date.now();
      const inStage = Math.min(1, (now - r.at) / r.stageDurationMs);
      r.stages.forEach((percent, i) => {
        const fill = i + 1 < r.stage ? 1 : i + 1 === r.stage ? inStage : 0;
        const mark = i + 1 === r.stage ? (this.rampFrozenAt ? ' <- stopped here' : ' <- now') : '';
        lines.push(`  stage ${i + 1}/${r.of} ${`${percent}%`.padStart(4)} ${bar(fill)}${mark}`);
      });
    }
    for (const [name, g] of this.guards) {
      lines.push(
        `  ${g.ok ? 'ok  ' : 'FAIL'} ${name}${g.ok ? '' : ` (${g.failures}) ${g.detail}`}`.slice(0, 150),
      );
    }
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : '';
    this.stream.write(`${up}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
    this.drawnLines = lines.length;
  }

  /** The verdict for people: ending, reason, abort timing, faults and guards. */
  static formatVerdict(v: Verdict): string {
    const out = [
      `verdict: ${v.ending.toUpperCase()} (exit ${v.exitCode}) after ${seconds(v.durationMs)}`,
      `  ${v.reason}`,
    ];
    if (v.abort) {
      out.push(
        `  abort latency ${v.abort.abortLatencyMs} ms (breach seen → every fault confirmed reverted; decision ${v.abort.decisionLatencyMs} ms)`,
      );
    }
    if (v.rampStageReached !== null) out.push(`  ramp reached ${v.rampStageReached}%`);
    for (const f of v.faults) {
      const state =
        f.appliedAt === null ? 'not applied' : f.revertedAt === null ? 'NOT CONFIRMED REVERTED' : 'reverted';
      out.push(`  fault ${f.type} on ${f.target} (${f.id}): ${state}`);
    }
    for (const g of v.guards)
      out.push(
        `  guard ${g.name}: ${g.samples} samples, ${g.failures} failing${g.breached ? ', BREACHED' : ''}`,
      );
    const hyp = (label: string, h: Verdict['hypothesisBefore']) => {
      if (!h) return;
      out.push(`  hypothesis ${label}: ${h.ok ? 'held' : 'did not hold'}`);
      for (const p of h.probes.filter((x) => !x.ok)) out.push(`    ${p.probe}: ${p.reasons.join('; ')}`);
    };
    hyp('before', v.hypothesisBefore);
    hyp('after', v.hypothesisAfter);
    for (const r of v.rollbacks) out.push(`  rollback ${r.name}: ${r.ok ? 'ok' : r.detail}`);
    return out.join('\n');
  }
}
