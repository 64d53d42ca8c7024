import { readFileSync } from 'node:fs';

/** TLS towards the brokers: on when present; `ca`, `cert` and `key` are the PEM text of their files. */
export interface KafkaTls {
  ca?: string;
  cert?: string;
  key?: string;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /** The name the broker certificates are checked against, when it differs from the address connected to. */
  servername?: string;
}

export const KAFKA_SASL_MECHANISMS = [
  'plain',
  'scram-sha-256',
  'scram-sha-512',
  'oauthbearer',
] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/**
 * SASL towards the brokers. OAUTHBEARER takes its token from a file read at every
 * authentication, so whatever renews the token (a sidecar, a projected volume) only rewrites
 * the file (docs/configuration.md).
 */
export type KafkaSasl =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'oauthbearer'; tokenFile: string };

/** The Kafka security variables as validated by their own rules (docs/configuration.md). */
export interface KafkaSecurityEnv {
  KAFKA_SSL?: string;
  KAFKA_SSL_CA_FILE?: string;
  KAFKA_SSL_CERT_FILE?: string;
  KAFKA_SSL_KEY_FILE?: string;
  KAFKA_SSL_KEY_PASSWORD?: string;
  KAFKA_SSL_SERVERNAME?: string;
  KAFKA_SASL_MECHANISM?: string;
  KAFKA_SASL_USERNAME?: string;
  KAFKA_SASL_PASSWORD?: string;
  KAFKA_SASL_OAUTHBEARER_TOKEN_FILE?: string;
}

function readPem(
  variable: string,
  file: string | undefined,
  marker: RegExp,
  what: string,
  problems: string[],
): string | undefined {
  if (file === undefined) return undefined;
  try {
    const text = readFileSync(file, 'utf8');
    if (!marker.test(text)) {
      problems.push(`${variable}: ${file} holds no PEM ${what}`);
      return undefined;
    }
    return text;
  } catch (err) {
    problems.push(`${variable}: cannot read ${file}: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * The Kafka TLS and SASL settings, or a problem for each combination that cannot work (all
 * of them, so the refusal lists every one): a file that is given must be readable and hold
 * what it is for, a client certificate needs its key, a mechanism needs its credentials, and
 * no setting is accepted where it would be ignored.
 */
export function kafkaSecurity(
  env: KafkaSecurityEnv,
  problems: string[],
): { ssl?: KafkaTls; sasl?: KafkaSasl } {
  const sslOn = env.KAFKA_SSL === 'true';
  const tlsOnly = [
    'KAFKA_SSL_CA_FILE',
    'KAFKA_SSL_CERT_FILE',
    'KAFKA_SSL_KEY_FILE',
    'KAFKA_SSL_KEY_PASSWORD',
    'KAFKA_SSL_SERVERNAME',
  ] as const;
  if (!sslOn)
    for (const k of tlsOnly)
      if (env[k] !== undefined) problems.push(`${k}: only meaningful with KAFKA_SSL=true`);
  if (env.KAFKA_SSL_CERT_FILE !== undefined && env.KAFKA_SSL_KEY_FILE === undefined) {
    problems.push(
      'KAFKA_SSL_KEY_FILE: required with KAFKA_SSL_CERT_FILE (the client certificate is useless without its key)',
    );
  }
  if (env.KAFKA_SSL_KEY_FILE !== undefined && env.KAFKA_SSL_CERT_FILE === undefined) {
    problems.push(
      'KAFKA_SSL_CERT_FILE: required with KAFKA_SSL_KEY_FILE (the key is useless without its certificate)',
    );
  }
  if (env.KAFKA_SSL_KEY_PASSWORD !== undefined && env.KAFKA_SSL_KEY_FILE === undefined) {
    problems.push('KAFKA_SSL_KEY_PASSWORD: only meaningful with KAFKA_SSL_KEY_FILE');
  }
  const ca = readPem(
    'KAFKA_SSL_CA_FILE',
    env.KAFKA_SSL_CA_FILE,
    /-----BEGIN CERTIFICATE-----/,
    'certificate',
    problems,
  );
  const cert = readPem(
    'KAFKA_SSL_CERT_FILE',
    env.KAFKA_SSL_CERT_FILE,
    /-----BEGIN CERTIFICATE-----/,
    'certificate',
    problems,
  );
  const key = readPem(
    'KAFKA_SSL_KEY_FILE',
    env.KAFKA_SSL_KEY_FILE,
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
    'private key',
    problems,
  );
  const ssl: KafkaTls | undefined = sslOn
    ? {
        ...(ca !== undefined ? { ca } : {}),
        ...(cert !== undefined ? { cert } : {}),
        ...(key !== undefined ? { key } : {}),
        ...(env.KAFKA_SSL_KEY_PASSWORD !== undefined
          ? { passphrase: env.KAFKA_SSL_KEY_PASSWORD }
          : {}),
        ...(env.KAFKA_SSL_SERVERNAME !== undefined ? { servername: env.KAFKA_SSL_SERVERNAME } : {}),
      }
    : undefined;

  const mechanism = env.KAFKA_SASL_MECHANISM as KafkaSaslMechanism | undefined;
  const credentials = ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const;
  let sasl: KafkaSasl | undefined;
  if (mechanism === undefined) {
    for (const k of [...credentials, 'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE'] as const) {
      if (env[k] !== undefined) problems.push(`${k}: only meaningful with KAFKA_SASL_MECHANISM`);
    }
  } else if (mechanism === 'oauthbearer') {
    for (const k of credentials)
      if (env[k] !== undefined)
        problems.push(
          `${k}: not used by KAFKA_SASL_MECHANISM=oauthbearer (the token comes from KAFKA_SASL_OAUTHBEARER_TOKEN_FILE)`,
        );
    const file = env.KAFKA_SASL_OAUTHBEARER_TOKEN_FILE;
    if (file === undefined) {
      problems.push(
        'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: required with KAFKA_SASL_MECHANISM=oauthbearer',
      );
    } else {
      try {
        if (readFileSync(file, 'utf8').trim() === '')
          problems.push(`KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: ${file} is empty`);
        else sasl = { mechanism, tokenFile: file };
      } catch (err) {
        problems.push(
          `KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: cannot read ${file}: ${(err as Error).message}`,
        );
      }
    }
  } else if ((KAFKA_SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    if (env.KAFKA_SASL_OAUTHBEARER_TOKEN_FILE !== undefined) {
      problems.push(
        'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: only meaningful with KAFKA_SASL_MECHANISM=oauthbearer',
      );
    }
    for (const k of credentials)
      if (env[k] === undefined)
        problems.push(`${k}: required with KAFKA_SASL_MECHANISM=${mechanism}`);
    if (env.KAFKA_SASL_USERNAME !== undefined && env.KAFKA_SASL_PASSWORD !== undefined) {
      sasl = { mechanism, username: env.KAFKA_SASL_USERNAME, password: env.KAFKA_SASL_PASSWORD };
    }
  }
  return { ssl, sasl };
}
