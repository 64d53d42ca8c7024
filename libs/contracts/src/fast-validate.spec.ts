import { EXAMPLES } from './examples';
import { validateEvent } from './parser';

/** Canonical JSON: sorted keys, undefined dropped (what reaches Redis is what matters). */
function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, x]) => [k, canon(x)]),
    );
  }
  return v;
}

const VALUES: unknown[] = [
  undefined,
  null,
  '',
  'x',
  'a\u0000b',
  'tab\there',
  'ü名前🙂',
  'y'.repeat(32),
  'y'.repeat(33),
  'y'.repeat(256),
  'y'.repeat(257),
  -1,
  0,
  1,
  1.5,
  2 ** 53 - 1,
  2 ** 53,
  1e300,
  Number.NaN,
  '0',
  '007',
  '123',
  '18446744073709551615',
  '18446744073709551616',
  '99999999999999999999',
  true,
  false,
  [],
  ['a', 'b'],
  ['a', 7],
  [7, '8'],
  [''],
  [-1],
  new Array(1001).fill('z'),
  {},
  'Work',
  'Secret',
  'Discard',
  'AcceptAndNotify',
];

/** Every example with one field (top level or in `message`) replaced by each value, or removed, or an extra field added. */
function* variants(): Generator<{ topic: (typeof EXAMPLES)[number]['topic']; plain: Record<string, unknown> }> {
  for (const { topic, event } of EXAMPLES) {
    yield { topic, plain: event };
    yield { topic, plain: { ...event, extra: 'ignored' } };
    for (const key of Object.keys(event)) {
      if (key === 'type' || key === 'scope') continue;
      for (const v of VALUES) yield { topic, plain: { ...event, [key]: v } };
    }
    const message = (event as { message?: Record<string, unknown> }).message;
    if (message) {
      for (const key of [...Object.keys(message), 'extra']) {
        for (const v of VALUES) yield { topic, plain: { ...event, message: { ...message, [key]: v } } };
      }
      yield { topic, plain: { ...event, message: 'not an object' } };
    }
  }
}

describe('fast-path validation agrees with the class-validator contracts', () => {
  it('accepts only what the contracts accept, and builds the same event', () => {
    let checked = 0;
    let fastAccepted = 0;
    for (const { topic, plain } of variants()) {
      const fast = validateEvent(plain, topic);
      const authoritative = validateEvent(plain, topic, { authoritativeOnly: true });
      checked++;
      if (fast.ok) {
        fastAccepted++;
        expect({ plain, result: authoritative.ok }).toEqual({ plain, result: true });
        if (authoritative.ok) expect(canon(fast.event)).toEqual(canon(authoritative.event));
      } else {
        expect({ plain, fast }).toEqual({ plain, fast: authoritative });
      }
    }
    expect(checked).toBeGreaterThan(3000);
    expect(fastAccepted).toBeGreaterThan(300);
  });

  it('takes the fast path for every example', () => {
    // Equal results with and without the fast path, and every example valid: the agreement
    // test above then shows the fast path produced them.
    for (const { topic, event } of EXAMPLES) {
      const r = validateEvent(event, topic);
      expect(r.ok && Object.getPrototypeOf(r.event)).toBe(Object.prototype);
    }
  });
});
