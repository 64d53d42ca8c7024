import { Parser } from '@asyncapi/parser';
import Ajv from 'ajv';
import { loadConfig } from '@app/config';
import { C2cMessageSent, ChannelMention, EXAMPLES, UnreadChanged, eventShapes, parseEvent } from '@app/contracts';
import { asyncApiDocument, schemaOfClass } from './asyncapi';

const config = loadConfig({ KAFKA_BROKERS: 'k:9092', REDIS_URL: 'redis://127.0.0.1:6379', TOPIC_UNREAD_CHANGED: 'prod.unread-changed' });

describe('schemaOfClass', () => {
  it('derives a contract class schema from its decorators', () => {
    expect(schemaOfClass(C2cMessageSent, { type: 'message-sent', scope: 'c2c' })).toEqual({
      type: 'object',
      title: 'C2cMessageSent',
      properties: {
        type: { type: 'string', const: 'message-sent' },
        scope: { type: 'string', const: 'c2c' },
        appId: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
        eventId: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
        msgId: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
        from: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
        to: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
        time: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Unix milliseconds' },
        noUnread: { type: 'boolean' },
      },
      required: expect.arrayContaining(['type', 'scope', 'appId', 'msgId', 'from', 'to', 'time']) as unknown,
    });
    expect((schemaOfClass(C2cMessageSent) as { required: string[] }).required).toHaveLength(5);
  });

  it('maps arrays, nested classes and optional fields', () => {
    const s = schemaOfClass(ChannelMention, { type: 'channel-mention' }) as { properties: Record<string, Record<string, unknown>>; required: string[] };
    expect(s.properties.mentionAccids).toEqual({ type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]+$' } });
    expect(s.properties.message).toMatchObject({ type: 'object', title: 'ChannelMessage', required: ['msgIdServer', 'fromAccount', 'time'] });
    expect(s.required.sort()).toEqual(['appId', 'channelId', 'message', 'serverId', 'type']);
  });
});

/**
 * Where the parser accepts what the contract class declares required (found by this test):
 * class-validator's @ValidateNested passes an absent `message`. Reported; the entry goes
 * when the contracts add @IsDefined (the test then fails here, as it should).
 */
const KNOWN_PARSER_GAPS = ['ChannelMention.message'];

describe('asyncApiDocument', () => {
  const doc = asyncApiDocument(config) as {
    channels: Record<string, { address: string; messages: Record<string, unknown> }>;
    components: { messages: Record<string, { payload: { $ref: string } }>; schemas: Record<string, unknown> };
  };

  it('is a valid AsyncAPI 3.0 document (@asyncapi/parser), without a diagnostic above hint', async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    expect(diagnostics.filter((d) => Number(d.severity) < 2).map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    expect(document?.channels().all().map((c) => c.address()).sort()).toEqual(Object.values(config.kafka.topics).sort());
  });

  it('has one message per event shape of the contracts, on its topic, and the change feed', () => {
    const expected: Record<string, string[]> = {};
    for (const s of eventShapes()) (expected[config.kafka.topics[s.topic]] ??= []).push(s.shape.name);
    expected[config.kafka.topics.unreadChanged] = [UnreadChanged.name];
    expected[config.kafka.topics.deadLetter] = [];
    const got: Record<string, string[]> = {};
    for (const c of Object.values(doc.channels)) {
      got[c.address] = Object.keys(c.messages)
        .map((n) => doc.components.schemas[doc.components.messages[n]!.payload.$ref?.split('/').pop() ?? ''] as { title?: string } | undefined)
        .flatMap((s) => (s?.title ? [s.title] : []));
    }
    expect(got).toEqual(expected);
    // every event shape has an example (some shapes have more than one: a noUnread message)
    const shapeOf = (type: string, scope: unknown) => `${type}/${typeof scope === 'string' ? scope : ''}`;
    const withScope = new Set(eventShapes().filter((s) => s.scope !== undefined).map((s) => s.type));
    expect(new Set(EXAMPLES.map((e) => shapeOf(e.event.type, withScope.has(e.event.type as never) ? e.event.scope : undefined)))).toEqual(
      new Set(eventShapes().map((s) => shapeOf(s.type, s.scope))),
    );
  });

  it("agrees with the contracts' parser: every example fits its schema; without a required field both refuse it, without an optional one both accept it", () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    let checked = 0;
    for (const ex of EXAMPLES) {
      const shape = eventShapes().find((s) => s.type === ex.event.type && (s.scope === undefined || s.scope === ex.event.scope))!;
      const name = Object.entries(doc.components.schemas).find(([, v]) => (v as { title: string }).title === shape.shape.name)![0];
      const validate = ajv.compile(doc.components.schemas[name] as object);
      const verdicts = (e: Record<string, unknown>) => ({ schema: validate(e), parser: parseEvent(Buffer.from(JSON.stringify(e)), ex.topic).ok });
      expect({ name, ...verdicts(ex.event) }).toEqual({ name, schema: true, parser: true });
      const required = new Set((doc.components.schemas[name] as { required: string[] }).required);
      for (const field of Object.keys(ex.event)) {
        const without: Record<string, unknown> = { ...ex.event };
        delete without[field];
        const ok = !required.has(field);
        const parserAccepts = ok || KNOWN_PARSER_GAPS.includes(`${name}.${field}`);
        expect({ name, field, ...verdicts(without) }).toEqual({ name, field, schema: ok, parser: parserAccepts });
        checked++;
      }
      for (const bad of [{ appId: '' }, { appId: 'a\u0001' }]) expect({ name, ...verdicts({ ...ex.event, ...bad }) }).toEqual({ name, schema: false, parser: false });
    }
    expect(checked).toBeGreaterThan(60);
  });
});
