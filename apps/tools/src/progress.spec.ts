import { Writable } from 'node:stream';
import { Progress, describeProgress } from './progress';

class Capture extends Writable {
  text = '';
  isTTY = false;
  _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

describe('progress', () => {
  it('describes count, rate and ETA against a total, or count and rate without one', () => {
    const started = 1_000_000;
    expect(describeProgress({ name: 'lines', value: 250, total: 1000, started }, 'lines', started + 5_000)).toBe('lines: 250/1000 lines (25%), 50.0 lines/s, ETA 15s');
    expect(describeProgress({ name: 't', value: 30_000, total: 1_000_000, started }, 'events', started + 10_000)).toBe('t: 30000/1000000 events (3%), 3000 events/s, ETA 5m23s');
    expect(describeProgress({ name: 't', value: 0, total: 10, started }, 'events', started + 1_000)).toBe('t: 0/10 events (0%), 0.0 events/s, ETA ?');
    expect(describeProgress({ name: 't', value: 10, total: 10, started }, 'events', started + 1_000)).toBe('t: 10/10 events (100%), 10.0 events/s, ETA 0s');
    expect(describeProgress({ name: 'lines', value: 42, started }, 'lines', started + 2_000)).toBe('lines: 42 lines, 21.0 lines/s');
  });

  it('writes one plain line per row each interval when not on a terminal, and nothing on stop', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const out = new Capture();
      const p = new Progress({ stream: out, unit: 'events', intervalMs: 2_000 });
      const a = p.row('a', 10);
      const b = p.row('b');
      a.update(4);
      b.update(7);
      jest.advanceTimersByTime(1_999);
      expect(out.text).toBe('');
      jest.advanceTimersByTime(1);
      expect(out.text).toBe('a: 4/10 events (40%), 2.0 events/s, ETA 3s\nb: 7 events, 3.5 events/s\n');
      a.update(10);
      jest.advanceTimersByTime(2_000);
      expect(out.text.split('\n').slice(2)).toEqual(['a: 10/10 events (100%), 2.5 events/s, ETA 0s', 'b: 7 events, 1.8 events/s', '']);
      p.stop();
      jest.advanceTimersByTime(10_000);
      expect(out.text.split('\n')).toHaveLength(5);
      const before = out.text;
      p.log('line 3: reason\n');
      expect(out.text).toBe(`${before}line 3: reason\n`);
    } finally {
      jest.useRealTimers();
    }
  });

  it('draws bars on a terminal', () => {
    const out = new Capture();
    out.isTTY = true;
    const p = new Progress({ stream: out, unit: 'lines' });
    const r = p.row('lines', 4);
    r.update(2);
    p.stop();
    expect(out.text).toMatch(/\[={15}-{15}\] lines: 2\/4 lines \(50%\)/);
  });
});
