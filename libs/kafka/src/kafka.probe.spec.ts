import * as kafkajs from 'kafkajs';
import type { AppConfig } from '@app/config';
import { KafkaRefusedError, asKafkaRefusal, describeKafkaFailure } from './kafka.probe';

// kafkajs' own error classes, as it throws them (its typings omit some classes and constructor arguments)
type ErrorClass = new (message: unknown, options?: Record<string, unknown>) => Error;
const {
  KafkaJSConnectionClosedError,
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSSASLAuthenticationError,
} = kafkajs as unknown as Record<string, ErrorClass>;

const topics = {
  messageSent: 'a',
  readAck: 'b',
  mention: 'c',
  directory: 'd',
  deadLetter: 'e',
  unreadChanged: 'f',
};
const plain: AppConfig['kafka'] = {
  brokers: ['k:9092'],
  clientId: 'c',
  consumerGroup: 'g',
  topics,
};
const tls: AppConfig['kafka'] = { ...plain, ssl: {} };
const sasl: AppConfig['kafka'] = {
  ...tls,
  sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 'never-logged' },
};

describe('describeKafkaFailure', () => {
  it('is given kafkajs classes', () => {
    for (const c of [
      KafkaJSConnectionClosedError,
      KafkaJSConnectionError,
      KafkaJSNumberOfRetriesExceeded,
      KafkaJSSASLAuthenticationError,
    ])
      expect(typeof c).toBe('function');
  });

  it('names a SASL refusal with mechanism and user, never the password', () => {
    const line = describeKafkaFailure(
      new KafkaJSSASLAuthenticationError!('SASL SCRAM SHA512 authentication failed'),
      sasl,
    )!;
    expect(line).toMatch(/refused SASL SCRAM-SHA-512 authentication as svc/);
    expect(line).not.toContain('never-logged');
  });

  it('sees through kafkajs retry wrappers', () => {
    const reset = new KafkaJSConnectionError!('Connection error: read ECONNRESET', {
      broker: 'k:9092',
      code: 'ECONNRESET',
    });
    const wrapped = new KafkaJSNumberOfRetriesExceeded!(reset, { retryCount: 8, retryTime: 2000 });
    expect(describeKafkaFailure(wrapped, tls)).toMatch(
      /^TLS with k:9092 failed: the broker closed the connection during the handshake/,
    );
    // the same reset without TLS configured says nothing about security
    expect(describeKafkaFailure(wrapped, plain)).toBeUndefined();
  });

  it('names an untrusted certificate', () => {
    const err = new KafkaJSConnectionError!(
      'Connection error: unable to verify the first certificate',
      { broker: 'k:9093', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    );
    expect(describeKafkaFailure(err, tls)).toMatch(
      /does not trust the broker's certificate.*KAFKA_SSL_CA_FILE and KAFKA_SSL_SERVERNAME/,
    );
  });

  it('leaves a broker that is only away alone', () => {
    const err = new KafkaJSConnectionError!('Connection error: connect ECONNREFUSED', {
      broker: 'k:9093',
      code: 'ECONNREFUSED',
    });
    expect(describeKafkaFailure(err, sasl)).toBeUndefined();
    expect(asKafkaRefusal(err, sasl)).toBe(err);
  });

  it('suggests TLS when a plaintext client is cut off on its first request', () => {
    const err = new KafkaJSConnectionClosedError!('Closed connection', { host: 'k', port: 9093 });
    expect(describeKafkaFailure(err, plain)).toMatch(/may require TLS .*KAFKA_SSL=true/);
  });

  it('gives entry points one line without a stack', () => {
    const err = asKafkaRefusal(
      new KafkaJSSASLAuthenticationError!('bad'),
      sasl,
    ) as KafkaRefusedError;
    expect(err).toBeInstanceOf(KafkaRefusedError);
    expect(err.stack).toBe(err.message);
    expect(err.message).toMatch(/^kafka: the broker k:9092 refused SASL/);
  });
});
