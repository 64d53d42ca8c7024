import 'reflect-metadata';
import { getMetadataStorage } from 'class-validator';
import type { AppConfig } from '@app/config';
import {
  DEAD_LETTER_HEADERS,
  EXAMPLES,
  MAX_ID_LENGTH,
  UnreadChanged,
  eventShapes,
  type ConsumedTopicRole,
  type TopicRole,
} from '@app/contracts';

/** A JSON Schema (draft-07, as AsyncAPI's default schema format takes it). */
export type JsonSchema = Record<string, unknown>;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const UINT64 = '^(0|[1-9][0-9]{0,19})$';

/** The JSON Schema of each validator the contracts use (class-validator name → schema). Each element of an `each` validator applies to the items. */
const VALIDATORS: Record<string, (constraints: unknown[]) => JsonSchema> = {
  isId: () => ({ type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
  // 64-bit ids: a decimal string, or a safe-integer number (kept as its decimal string).
  isUint64String: () => ({ anyOf: [{ type: 'string', pattern: UINT64 }, { type: 'integer', minimum: 0, maximum: MAX_SAFE }] }),
  isUnixMillis: () => ({ type: 'integer', minimum: 0, maximum: MAX_SAFE, description: 'Unix milliseconds' }),
  isCount: () => ({ type: 'integer', minimum: 0, maximum: MAX_SAFE }),
  isInt: () => ({ type: 'integer' }),
  min: ([m]) => ({ minimum: m }),
  isString: () => ({ type: 'string' }),
  maxLength: ([m]) => ({ maxLength: m }),
  isBoolean: () => ({ type: 'boolean' }),
  isIn: ([values]) => ({ enum: values }),
  equals: ([value]) => ({ const: value }),
  isArray: () => ({ type: 'array' }),
  arrayMaxSize: ([m]) => ({ maxItems: m }),
};

/** Merges schema parts that constrain one value; two `type`s must agree. */
function merge(into: JsonSchema, part: JsonSchema, where: string): void {
  for (const [k, v] of Object.entries(part)) {
    if (k === 'type' && into.type !== undefined && into.type !== v) {
      throw new Error(`${where}: conflicting types ${JSON.stringify(into.type)} and ${JSON.stringify(v)}`);
    }
    into[k] = v;
  }
}

/**
 * The JSON Schema of a contract class, from its class-validator decorators (inherited ones
 * included): a decorator without a mapping fails, so the document never silently omits a
 * rule. `consts` pins discriminator fields that the parser selects the class by.
 */
export function schemaOfClass(cls: new () => object, consts: Record<string, string> = {}): JsonSchema {
  const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  const props = new Map<string, { schema: JsonSchema; items?: JsonSchema; optional: boolean }>();
  const prop = (name: string) => {
    let p = props.get(name);
    if (!p) props.set(name, (p = { schema: {}, optional: false }));
    return p;
  };
  for (const name of Object.keys(consts)) prop(name);
  for (const m of metas) {
    const p = prop(m.propertyName);
    const where = `${cls.name}.${m.propertyName}`;
    if (m.type === 'conditionalValidation') {
      p.optional = true;
    } else if (m.type === 'nestedValidation') {
      const nested = Reflect.getMetadata('design:type', cls.prototype as object, m.propertyName) as (new () => object) | undefined;
      if (!nested) throw new Error(`${where}: nested validation without a design type`);
      merge(p.schema, schemaOfClass(nested), where);
    } else if (m.type === 'customValidation' && m.name && VALIDATORS[m.name]) {
      const part = VALIDATORS[m.name]!(m.constraints ?? []);
      if (m.each) merge((p.items ??= {}), part, `${where}[]`);
      else merge(p.schema, part, where);
    } else {
      throw new Error(`${where}: no JSON Schema for validator ${m.name ?? m.type}`);
    }
  }
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, p] of props) {
    const schema = consts[name] !== undefined ? { type: 'string', const: consts[name] } : p.schema;
    if (p.items) schema.items = p.items;
    properties[name] = schema;
    if (!p.optional) required.push(name);
  }
  return { type: 'object', title: cls.name, properties, required };
}

/** The message name of an event shape: `message-sent/c2c` → `MessageSentC2c`. */
function messageName(type: string, scope?: string): string {
  return [type, scope]
    .filter((s): s is string => s !== undefined)
    .flatMap((s) => s.split('-'))
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/** The partition key of each consumed topic's events (EventProducer.keyOf, docs/events.md). */
const KEYS: Record<ConsumedTopicRole, string> = {
  messageSent: 'The conversation: `<appId>:c2c:<a>:<b>` (the two accounts sorted), `<appId>:group:<groupId>`, `<appId>:channel:<serverId>:<channelId>`',
  readAck: 'The conversation, as on im.message-sent (`group-unread-set`: `<appId>:group:<groupId>`)',
  mention: 'The channel: `<appId>:channel:<serverId>:<channelId>`',
  directory: 'The entity: `<appId>:account:<account>`, `<appId>:group:<groupId>`, `<appId>:server:<serverId>`',
};

const CHANNEL_DOCS: Record<TopicRole, string> = {
  messageSent: 'Messages sent: one-to-one, group and QChat channel (docs/events.md).',
  readAck: 'Read acknowledgements and group unread overrides (docs/events.md).',
  mention: 'QChat mentions and mention updates (docs/events.md).',
  directory: 'Accounts, groups, QChat servers, channels and roles (docs/events.md).',
  deadLetter: 'Records the projector refused: the original key and bytes, with why and where from in headers (docs/events.md, "Dead letters").',
  unreadChanged:
    "An account's totals after a batch of events about it was applied; compacted, the last record of a key is the account's counts at rest (docs/events.md, \"The change feed\").",
};

const KAFKA_BINDING = '0.5.0';

/**
 * The AsyncAPI 3.0 document of every topic the service reads and writes, generated from
 * the contracts (libs/contracts: the event classes, their topics and examples, the change
 * feed's class), with the topic names of this deployment. Served by the gateway at
 * /asyncapi.json; apps/gateway/src/common/asyncapi.spec.ts validates it with @asyncapi/parser.
 */
export function asyncApiDocument(config: Pick<AppConfig, 'kafka'>): Record<string, unknown> {
  const topics = config.kafka.topics;
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, JsonSchema> = {};
  const byTopic = new Map<TopicRole, string[]>();
  const add = (role: TopicRole, name: string, message: Record<string, unknown>) => {
    messages[name] = message;
    byTopic.set(role, [...(byTopic.get(role) ?? []), name]);
  };
  for (const s of eventShapes()) {
    const name = messageName(s.type, s.scope);
    schemas[name] = schemaOfClass(s.shape, s.scope === undefined ? { type: s.type } : { type: s.type, scope: s.scope });
    const examples = EXAMPLES.filter((e) => e.event.type === s.type && (s.scope === undefined || e.event.scope === s.scope)).map((e) => ({ name: 'example', payload: e.event }));
    add(s.topic, name, {
      name,
      title: s.scope === undefined ? s.type : `${s.type} (${s.scope})`,
      contentType: 'application/json',
      payload: { $ref: `#/components/schemas/${name}` },
      bindings: { kafka: { key: { type: 'string', description: KEYS[s.topic] }, bindingVersion: KAFKA_BINDING } },
      ...(examples.length > 0 ? { examples } : {}),
    });
  }
  schemas.UnreadChanged = schemaOfClass(UnreadChanged);
  add('unreadChanged', 'UnreadChanged', {
    name: 'UnreadChanged',
    title: 'unread-changed',
    contentType: 'application/json',
    payload: { $ref: '#/components/schemas/UnreadChanged' },
    bindings: { kafka: { key: { type: 'string', description: 'The account: `<appId>:<account>`' }, bindingVersion: KAFKA_BINDING } },
    examples: [{ name: 'example', payload: { type: 'unread-changed', appId: '1400000000', account: 'alice', c2c: 3, groups: 57, channels: 2, badge: 62, version: 1796185335859, time: 1796185335861 } }],
  });
  add('deadLetter', 'DeadLetter', {
    name: 'DeadLetter',
    title: 'dead letter',
    contentType: 'application/octet-stream',
    payload: { description: 'The refused record’s original bytes, unchanged' },
    headers: {
      type: 'object',
      properties: {
        [DEAD_LETTER_HEADERS.reason]: { type: 'string', description: 'why it was refused' },
        [DEAD_LETTER_HEADERS.topic]: { type: 'string', description: 'the topic it was read from' },
        [DEAD_LETTER_HEADERS.partition]: { type: 'string', description: 'its partition' },
        [DEAD_LETTER_HEADERS.offset]: { type: 'string', description: 'its offset' },
      },
      required: Object.values(DEAD_LETTER_HEADERS),
    },
    bindings: { kafka: { key: { type: 'string', description: 'The original record’s key' }, bindingVersion: KAFKA_BINDING } },
  });

  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const role of Object.keys(CHANNEL_DOCS) as TopicRole[]) {
    const names = byTopic.get(role) ?? [];
    const compacted = role === 'unreadChanged';
    channels[role] = {
      address: topics[role],
      description: CHANNEL_DOCS[role],
      messages: Object.fromEntries(names.map((n) => [n, { $ref: `#/components/messages/${n}` }])),
      bindings: { kafka: { topic: topics[role], ...(compacted ? { topicConfiguration: { 'cleanup.policy': ['compact'] } } : {}), bindingVersion: KAFKA_BINDING } },
    };
    const produced = role === 'deadLetter' || role === 'unreadChanged';
    operations[`${produced ? 'write' : 'read'}${role[0]!.toUpperCase()}${role.slice(1)}`] = {
      action: produced ? 'send' : 'receive',
      summary: produced ? `The projector writes ${topics[role]}` : `The projector reads ${topics[role]}`,
      channel: { $ref: `#/channels/${role}` },
      messages: names.map((n) => ({ $ref: `#/channels/${role}/messages/${n}` })),
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'unread events',
      version: '1',
      description: 'Every Kafka topic the unread service reads (event contracts v1) and writes (dead letters, the change feed). Prose: docs/events.md.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages, schemas },
  };
}
