import { connect, type Socket } from 'node:net';

/**
 * Redis MONITOR on a plain socket: every command Redis receives, as the line MONITOR prints
 * (`<time> [<db> <client>] "<command>" "<arg>" …`).
 *
 * Not ioredis's `monitor()`: it enters monitoring mode only in a promise callback after the
 * `+OK`, so monitor lines that arrive in the same TCP read as the `+OK` reach its command
 * queue, which throws "Command queue state error" and fails the suite as an unhandled error
 * (seen in CI with a projector writing at the time). Here nothing is a reply to anything:
 * the `+OK` is dropped and every later line is a monitor line.
 */
export class RedisMonitor {
  readonly lines: string[] = [];
  private buffered = '';

  private constructor(private readonly socket: Socket) {}

  static async start(port: number, host = '127.0.0.1'): Promise<RedisMonitor> {
    const socket = connect({ port, host });
    const monitor = new RedisMonitor(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.setEncoding('utf8');
    // After the start: a test that outlives a Redis it stopped itself must not fail on it.
    socket.on('error', () => undefined);
    const ok = new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: string) => {
        monitor.buffered += chunk;
        let end: number;
        while ((end = monitor.buffered.indexOf('\r\n')) >= 0) {
          const line = monitor.buffered.slice(0, end);
          monitor.buffered = monitor.buffered.slice(end + 2);
          if (line === '+OK') resolve();
          else if (line.startsWith('-')) reject(new Error(`MONITOR refused: ${line}`));
          else if (line.startsWith('+')) monitor.lines.push(line.slice(1));
        }
      });
    });
    socket.write('MONITOR\r\n');
    await ok;
    return monitor;
  }

  stop(): void {
    this.socket.destroy();
  }
}

/** Sample lines of a Prometheus text exposition: name{labels} → value. */
export function metricSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
