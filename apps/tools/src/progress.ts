import { Format, MultiBar, type Params } from 'cli-progress';

/** One thing being counted (a file's lines, a topic's records). */
export interface ProgressRow {
  /** The count so far. */
  update(value: number): void;
  /** The total to reach, when known (it may grow: a topic's end offset moves). */
  setTotal(total: number): void;
}

export interface ProgressOptions {
  /** Where progress goes (stderr: stdout stays for the command's result). */
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** What is counted, plural ("lines", "events"). */
  unit: string;
  /** Plain mode: one line per row this often (default 5 s). */
  intervalMs?: number;
  /** Force the mode (default: a bar when the stream is a terminal). */
  tty?: boolean;
}

interface RowState {
  name: string;
  value: number;
  total?: number;
  started: number;
}

function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "<value>/<total> <unit> (p%), r/s, ETA t" (or without total, percentage and ETA when the total is unknown). */
export function describeProgress(row: RowState, unit: string, now = Date.now()): string {
  const elapsed = Math.max(1e-3, (now - row.started) / 1000);
  const rate = row.value / elapsed;
  const rateText = `${rate >= 100 ? Math.round(rate) : rate.toFixed(1)} ${unit}/s`;
  if (row.total === undefined) return `${row.name}: ${row.value} ${unit}, ${rateText}`;
  const pct = row.total > 0 ? Math.min(100, Math.floor((row.value / row.total) * 100)) : 100;
  const eta = rate > 0 ? Math.max(0, row.total - row.value) / rate : Number.POSITIVE_INFINITY;
  return `${row.name}: ${row.value}/${row.total} ${unit} (${pct}%), ${rateText}, ETA ${row.value >= row.total ? '0s' : duration(eta)}`;
}

/**
 * Progress of one or more rows: a cli-progress bar per row (with rate and ETA) when the
 * stream is a terminal, otherwise one plain line per row every `intervalMs` (logs and CI
 * get no control characters).
 */
export class Progress {
  private readonly rows: RowState[] = [];
  private readonly bars?: MultiBar;
  private readonly timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly opts: ProgressOptions) {
    const tty = opts.tty ?? Boolean(opts.stream.isTTY);
    if (tty) {
      this.bars = new MultiBar({
        stream: opts.stream,
        hideCursor: true,
        clearOnComplete: false,
        fps: 5,
        format: (options, params: Params, payload: { row: RowState }) => {
          const row = payload.row;
          const bar = row.total === undefined ? '' : `[${Format.BarFormat(params.progress, options)}] `;
          return bar + describeProgress(row, opts.unit);
        },
        barsize: 30,
      });
    } else {
      this.timer = setInterval(() => this.printPlain(), opts.intervalMs ?? 5_000);
      this.timer.unref();
    }
  }

  row(name: string, total?: number): ProgressRow {
    const state: RowState = { name, value: 0, total, started: Date.now() };
    this.rows.push(state);
    const bar = this.bars?.create(total ?? 1, 0, { row: state });
    return {
      update: (value) => {
        state.value = value;
        bar?.update(Math.min(value, state.total ?? value), { row: state });
      },
      setTotal: (t) => {
        state.total = t;
        bar?.setTotal(Math.max(1, t));
      },
    };
  }

  /** Prints a line (with its newline) above the bars, or as is in plain mode. */
  log(line: string): void {
    if (this.bars && !this.stopped) this.bars.log(line);
    else this.opts.stream.write(line);
  }

  /** Stops drawing (the bars stay on screen; plain mode prints nothing more: the command reports its result). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.bars?.stop();
  }

  private printPlain(): void {
    const now = Date.now();
    for (const row of this.rows) this.opts.stream.write(`${describeProgress(row, this.opts.unit, now)}\n`);
  }
}
