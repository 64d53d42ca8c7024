import { readFile } from 'node:fs/promises';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { AppConfig, KafkaSasl } from '@app/config';

export type KafkaLog = (
  level: 'error' | 'warn' | 'info' | 'debug',
  message: string,
  extra: Record<string, unknown>,
) => void;

function saslOptions(sasl: KafkaSasl): SASLOptions {
  if (sasl.mechanism === 'oauthbearer') {
    const { tokenFile } = sasl;
    // read at every authentication: whatever renews the token only rewrites the file
    return {
      mechanism: 'oauthbearer',
      oauthBearerProvider: async () => ({ value: (await readFile(tokenFile, 'utf8')).trim() }),
    };
  }
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password };
}

/** The kafkajs options every client of the project is built with (brokers, security, timeouts, logging). */
export function kafkaOptions(
  config: AppConfig['kafka'],
  clientId: string,
  log?: KafkaLog,
): KafkaConfig {
  return {
    clientId,
    brokers: config.brokers,
    // `true` when no file or name is given: TLS with the system's CAs
    ...(config.ssl ? { ssl: Object.keys(config.ssl).length > 0 ? { ...config.ssl } : true } : {}),
    ...(config.sasl ? { sasl: saslOptions(config.sasl) } : {}),
    connectionTimeout: 3_000,
    authenticationTimeout: 10_000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, label, log: entry }: LogEntry) => {
        const { message, ...extra } = entry;
        const lvl =
          level === logLevel.ERROR
            ? 'error'
            : level === logLevel.WARN
              ? 'warn'
              : level === logLevel.INFO
                ? 'info'
                : 'debug';
        if (log) log(lvl, `kafkajs ${label}: ${message}`, extra);
      },
  };
}

/** A kafkajs client for the configuration; kafkajs' own logs go to `log`. */
export function createKafka(config: AppConfig['kafka'], clientId: string, log?: KafkaLog): Kafka {
  return new Kafka(kafkaOptions(config, clientId, log));
}
