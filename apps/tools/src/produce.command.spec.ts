import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DEFAULT_TOPICS, type UnreadEvent } from '@app/contracts';
import { formatProduceReport, openInput, produceLines } from './produce.command';

const reg = (account: string) => JSON.stringify({ type: 'account-registered', appId: '1', account });

describe('produceLines', () => {
  it('validates every line, sends the valid ones in order in batches, and numbers the invalid ones', async () => {
    const sent: UnreadEvent[][] = [];
    const invalid: [number, string][] = [];
    const input = Readable.from([`${reg('a')}\r\n${reg('b')}\n\n   \n`, `{"type":"x","appId":"1"}\n${reg('c')}\n`, reg('d')]);
    const report = await produceLines(input, { send: (e) => Promise.resolve(void sent.push([...e])) }, {
      topics: DEFAULT_TOPICS,
      batchSize: 2,
      onInvalid: (line, reason) => invalid.push([line, reason]),
    });
    expect(report).toEqual({ lines: 7, valid: 4, invalid: 1, blank: 2, produced: { 'im.directory': 4 } });
    expect(sent.map((b) => b.map((e) => (e as { account: string }).account))).toEqual([['a', 'b'], ['c', 'd']]);
    expect(invalid).toEqual([[5, 'unknown type "x"']]);
    expect(formatProduceReport(report, false)).toBe('7 lines: 4 valid, 1 invalid, 2 blank; produced 4 events (im.directory 4)\n');
  });

  it('sends nothing on a dry run', async () => {
    const send = jest.fn();
    const report = await produceLines(Readable.from([`${reg('a')}\n`]), { send }, { topics: DEFAULT_TOPICS, dryRun: true });
    expect(send).not.toHaveBeenCalled();
    expect(formatProduceReport(report, true)).toBe('1 lines: 1 valid, 0 invalid, 0 blank; dry run: nothing produced\n');
  });

  it('counts the lines of a file for the progress total (with or without a final newline)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'produce-'));
    try {
      writeFileSync(join(dir, 'a'), 'x\ny\n');
      writeFileSync(join(dir, 'b'), 'x\ny');
      writeFileSync(join(dir, 'c'), '');
      for (const [f, n] of [['a', 2], ['b', 2], ['c', 0]] as const) {
        const { input, totalLines } = await openInput(join(dir, f));
        const chunks: Buffer[] = [];
        for await (const c of input as AsyncIterable<Buffer>) chunks.push(c);
        expect(totalLines).toBe(n);
        expect(Buffer.concat(chunks).toString()).toBe({ a: 'x\ny\n', b: 'x\ny', c: '' }[f]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
