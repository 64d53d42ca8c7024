/** Default topic names (docs/events.md, event contracts v1). Deployments may rename them in config. */
export const DEFAULT_TOPICS = {
  messageSent: 'im.message-sent',
  readAck: 'im.read-ack',
  mention: 'im.mention',
  directory: 'im.directory',
  deadLetter: 'im.dead-letter',
  /** The change feed the projector writes (docs/events.md, "The change feed"). */
  unreadChanged: 'im.unread-changed',
} as const;

export type TopicRole = keyof typeof DEFAULT_TOPICS;
export type TopicNames = Record<TopicRole, string>;

/** The four topics the projector consumes. */
export const CONSUMED_TOPIC_ROLES = ['messageSent', 'readAck', 'mention', 'directory'] as const;
export type ConsumedTopicRole = (typeof CONSUMED_TOPIC_ROLES)[number];

/** Headers the projector puts on a dead-lettered record (its value is the original bytes). */
export const DEAD_LETTER_HEADERS = {
  reason: 'x-unread-reason',
  topic: 'x-unread-source-topic',
  partition: 'x-unread-source-partition',
  offset: 'x-unread-source-offset',
  /** `<source topic>/<partition>/<offset>`: the same on every copy of one dead letter (a redelivered batch writes it again). */
  id: 'x-unread-dead-letter-id',
} as const;
