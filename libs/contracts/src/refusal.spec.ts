import { parseEvent } from './parser';
import { REFUSAL_CLASSES, refusalClassOf, type RefusalClass } from './refusal';

describe('refusalClassOf', () => {
  const reasonOf = (value: string | Buffer | null, topic?: 'messageSent' | 'directory'): string => {
    const r = parseEvent(typeof value === 'string' ? Buffer.from(value) : value, topic);
    if (r.ok) throw new Error('expected a refusal');
    return r.reason;
  };

  it.each<[string, string, RefusalClass]>([
    ['empty', reasonOf(null), 'empty'],
    ['too large', reasonOf(Buffer.alloc(300_000, 0x20)), 'too_large'],
    ['invalid JSON', reasonOf('{"type":'), 'invalid_json'],
    ['not an object', reasonOf('[1,2]'), 'not_an_object'],
    ['no type', reasonOf('{"appId":"1"}'), 'unknown_type'],
    ['unknown type', reasonOf('{"type":"x","appId":"1"}'), 'unknown_type'],
    ['bad scope', reasonOf('{"type":"message-sent","scope":"x","appId":"1"}'), 'unknown_type'],
    ['wrong topic', reasonOf('{"type":"account-registered","appId":"1","account":"a"}', 'messageSent'), 'wrong_topic'],
    ['not consumed', 'topic x is not consumed', 'wrong_topic'],
    ['bad field', reasonOf('{"type":"account-registered","appId":"1","account":""}', 'directory'), 'invalid_fields'],
    ['redis', 'redis refused the event: WRONGTYPE Operation against a key holding the wrong kind of value', 'redis_refused'],
  ])('%s → its class', (_name, reason, cls) => {
    expect(refusalClassOf(reason)).toBe(cls);
    expect(REFUSAL_CLASSES).toContain(cls);
  });
});
