import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { AppConfig } from '@app/config';

type Log = (level: 'error' | 'warn' | 'info' | 'debug', message: string, extra: Record<string, unknown>) => void;

/** A kafkajs client for the configuration; kafkajs' own logs go to `log`. */
export function createKafka(config: AppConfig['kafka'], clientId: string, log?: Log): Kafka {
  return new Kafka({
    clientId,
    brokers: config.brokers,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, label, log: entry }: LogEntry) => {
        const { message, ...extra } = entry;
        const lvl = level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : level === logLevel.INFO ? 'info' : 'debug';
        if (log) log(lvl, `kafkajs ${label}: ${message}`, extra);
      },
  });
}
