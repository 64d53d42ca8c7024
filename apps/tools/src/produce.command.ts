import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseEvent, topicRoleOf, type TopicNames, type UnreadEvent } from '@app/contracts';
import type { Progress } from './progress';

/** Where valid events go: EventProducer (topics and partition keys from the contracts), or nothing on --dry-run. */
export interface EventSink {
  send(events: readonly UnreadEvent[]): Promise<void>;
}

export interface ProduceOptions {
  topics: TopicNames;
  /** Validate only. */
  dryRun?: boolean;
  /** Events per produce request (default 500). Batches are sent one after another, so per-key order is the file's. */
  batchSize?: number;
  /** Called for each invalid line as it is found (1-based line number). */
  onInvalid?: (line: number, reason: string) => void;
  progress?: Progress;
  /** Lines in the input, when known (a file): the progress total. */
  totalLines?: number;
}

export interface ProduceReport {
  /** Lines read (blank ones included). */
  lines: number;
  valid: number;
  invalid: number;
  blank: number;
  /** Events produced per topic name (empty on a dry run). */
  produced: Record<string, number>;
}

/**
 * `unread produce`: reads JSON lines, validates every line against the contracts (the
 * parser the projector uses, so a line that passes here is never dead-lettered for its
 * shape), and sends the valid events to their topics with their partition keys. Invalid
 * and blank lines are skipped (invalid ones reported); the valid ones are produced.
 */
export async function produceLines(input: Readable, sink: EventSink | undefined, opts: ProduceOptions): Promise<ProduceReport> {
  const batchSize = opts.batchSize ?? 500;
  const report: ProduceReport = { lines: 0, valid: 0, invalid: 0, blank: 0, produced: {} };
  const row = opts.progress?.row('lines', opts.totalLines);
  let pending: UnreadEvent[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const events = pending;
    pending = [];
    if (!opts.dryRun && sink) {
      await sink.send(events);
      for (const e of events) {
        const topic = opts.topics[topicRoleOf(e.type)];
        report.produced[topic] = (report.produced[topic] ?? 0) + 1;
      }
    }
  };
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    report.lines++;
    if (line.trim() === '') {
      report.blank++;
    } else {
      const parsed = parseEvent(Buffer.from(line, 'utf8'));
      if (parsed.ok) {
        report.valid++;
        pending.push(parsed.event);
        if (pending.length >= batchSize) await flush();
      } else {
        report.invalid++;
        opts.onInvalid?.(report.lines, parsed.reason);
      }
    }
    row?.update(report.lines);
  }
  await flush();
  row?.update(report.lines);
  return report;
}

/** The input of `unread produce FILE|-` and, for a file, its line count (the progress total). */
export async function openInput(file: string): Promise<{ input: Readable; totalLines?: number }> {
  if (file === '-') return { input: process.stdin };
  await stat(file); // a missing file fails here, with its name
  let totalLines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) totalLines++;
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
  }
  if (last !== 0x0a) totalLines++; // a last line without a newline
  return { input: createReadStream(file), totalLines };
}

/** The summary `unread produce` prints on stdout. */
export function formatProduceReport(r: ProduceReport, dryRun: boolean): string {
  const topics = Object.entries(r.produced)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([t, n]) => `${t} ${n}`);
  const produced = dryRun ? 'dry run: nothing produced' : `produced ${Object.values(r.produced).reduce((a, b) => a + b, 0)} events${topics.length ? ` (${topics.join(', ')})` : ''}`;
  return `${r.lines} lines: ${r.valid} valid, ${r.invalid} invalid, ${r.blank} blank; ${produced}\n`;
}
