import { Transform } from 'class-transformer';
import { registerDecorator, type ValidationOptions } from 'class-validator';

/** Upper bound on ids, accounts and similar strings, so a hostile event cannot bloat Redis keys. */
export const MAX_ID_LENGTH = 256;
/** Upper bound on free-text fields of a mention (body, attach, ext). */
export const MAX_TEXT_LENGTH = 64 * 1024;
/** Upper bound on each mention target list. */
export const MAX_MENTION_TARGETS = 1000;

/**
 * 64-bit ids (QChat serverId, channelId, msgIdServer, roleId) arrive as JSON numbers or
 * decimal strings; they are kept as decimal strings. Numbers beyond 2^53 lose precision in
 * JSON.parse, so producers should send such ids as strings; an unsafe integer is refused.
 */
export function ToIdString(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
    return value;
  });
}

/** A decimal string of an unsigned 64-bit integer (after ToIdString). */
export function IsUint64String(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isUint64String',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `${String(propertyName)} must be an unsigned 64-bit integer (number or decimal string)`, ...options },
      validator: {
        validate(value: unknown): boolean {
          return (
            typeof value === 'string' &&
            /^(0|[1-9][0-9]{0,19})$/.test(value) &&
            BigInt(value) <= 18446744073709551615n
          );
        },
      },
    });
  };
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * The rule every id and account follows: a non-empty string of at most MAX_ID_LENGTH
 * characters without control characters. The gateway checks what it appends to Kafka with
 * it, so an accepted request never becomes a dead letter.
 */
export function isId(value: string): boolean;
export function isId(value: unknown): value is string;
export function isId(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH && !CONTROL_CHARACTER.test(value);
}

/** A non-empty string without control characters, at most MAX_ID_LENGTH long. */
export function IsId(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isId',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `${String(propertyName)} must be a non-empty string of at most ${MAX_ID_LENGTH} characters without control characters`,
        ...options,
      },
      validator: {
        validate(value: unknown): boolean {
          return isId(value);
        },
      },
    });
  };
}

/** Unix milliseconds: a non-negative safe integer. */
export function IsUnixMillis(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isUnixMillis',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `${String(propertyName)} must be Unix milliseconds (a non-negative integer)`, ...options },
      validator: {
        validate(value: unknown): boolean {
          return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
        },
      },
    });
  };
}

/** A non-negative safe integer (sequence numbers, statuses, types). */
export function IsCount(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isCount',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `${String(propertyName)} must be a non-negative integer`, ...options },
      validator: {
        validate(value: unknown): boolean {
          return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
        },
      },
    });
  };
}
