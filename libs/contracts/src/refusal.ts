/**
 * The classes of refusal reasons, a small fixed set (a Prometheus label must not take one
 * value per reason text). Derived from the reasons `parseEvent` and `validateEvent` give,
 * plus the projector's own `redis refused the event: …`.
 */
export const REFUSAL_CLASSES = [
  'empty',
  'too_large',
  'invalid_json',
  'not_an_object',
  'unknown_type',
  'wrong_topic',
  'invalid_fields',
  'redis_refused',
] as const;

export type RefusalClass = (typeof REFUSAL_CLASSES)[number];

const RULES: [RegExp, RefusalClass][] = [
  [/^empty value$/, 'empty'],
  [/^event is \d+ bytes, more than/, 'too_large'],
  [/^invalid JSON: /, 'invalid_json'],
  [/^event must be a JSON object$/, 'not_an_object'],
  [/^(type must be a string|unknown type |scope must be one of |no contract for type )/, 'unknown_type'],
  [/(^type "[^"]*" does not belong on the |^topic .* is not consumed$)/, 'wrong_topic'],
  [/^redis refused the event: /, 'redis_refused'],
];

/** The class of a refusal reason; anything else is a field of the contract (class-validator's messages). */
export function refusalClassOf(reason: string): RefusalClass {
  for (const [pattern, cls] of RULES) if (pattern.test(reason)) return cls;
  return 'invalid_fields';
}
