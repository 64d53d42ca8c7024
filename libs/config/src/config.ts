import { readFileSync } from 'node:fs';
import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { DEFAULT_TOPICS, type TopicNames } from '@app/contracts';

/** A Tencent Cloud IM app: its SDKAppID, the secret key UserSigs are signed with, and its admins. */
export class TencentAppConfig {
  @Matches(/^[1-9][0-9]{0,9}$/, { message: 'sdkAppId must be a positive integer (as a string or number)' })
  sdkAppId!: string;
  @IsString() @MinLength(1) secretKey!: string;
  @IsArray() @ArrayMinSize(1) @IsString({ each: true }) admins!: string[];
  /** Bearer token of the account summary API (docs/api/summary.md); without it the API answers 401 for this app. */
  @IsOptional() @IsString() @MinLength(16, { message: 'apiKey must be at least 16 characters' }) apiKey?: string;
}

/** A NetEase Yunxin app: the AppKey and AppSecret used for CheckSum. */
export class NeteaseAppConfig {
  @IsString() @MinLength(1) @MaxLength(128) appKey!: string;
  @IsString() @MinLength(1) appSecret!: string;
  /** Bearer token of the account summary API (docs/api/summary.md); without it the API answers 401 for this app. */
  @IsOptional() @IsString() @MinLength(16, { message: 'apiKey must be at least 16 characters' }) apiKey?: string;
}

export class TenantsConfig {
  @IsArray() @ValidateNested({ each: true }) @Type(() => TencentAppConfig) tencent: TencentAppConfig[] = [];
  @IsArray() @ValidateNested({ each: true }) @Type(() => NeteaseAppConfig) netease: NeteaseAppConfig[] = [];
}

/** Environment variables, as read (strings), with their defaults. Documented in docs/configuration.md. */
class Env {
  @IsString() @Matches(/^[^,\s]+(,[^,\s]+)*$/, { message: 'KAFKA_BROKERS must be a comma-separated list of host:port' })
  KAFKA_BROKERS!: string;
  @IsString() @MinLength(1) KAFKA_CLIENT_ID = 'unread';
  @IsString() @MinLength(1) KAFKA_CONSUMER_GROUP = 'unread-projector';
  @IsString() @MinLength(1) TOPIC_MESSAGE_SENT = DEFAULT_TOPICS.messageSent;
  @IsString() @MinLength(1) TOPIC_READ_ACK = DEFAULT_TOPICS.readAck;
  @IsString() @MinLength(1) TOPIC_MENTION = DEFAULT_TOPICS.mention;
  @IsString() @MinLength(1) TOPIC_DIRECTORY = DEFAULT_TOPICS.directory;
  @IsString() @MinLength(1) TOPIC_DEAD_LETTER = DEFAULT_TOPICS.deadLetter;
  /** Either REDIS_URL (a single Redis) or REDIS_CLUSTER_NODES (host:port,...) */
  @IsOptional() @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' }) REDIS_URL?: string;
  @IsOptional() @Matches(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, { message: 'REDIS_CLUSTER_NODES must be host:port,host:port,...' })
  REDIS_CLUSTER_NODES?: string;
  /** Prefix of every projection key (a deployment can share one Redis between environments). */
  @IsString() @Matches(/^[A-Za-z0-9_.-]{1,32}$/, { message: 'REDIS_KEY_PREFIX must be 1-32 characters of A-Z a-z 0-9 _ . -' })
  REDIS_KEY_PREFIX = 'u';
  /** JSON of TenantsConfig, or TENANTS_FILE naming a file with that JSON. */
  @IsOptional() @IsString() TENANTS_JSON?: string;
  @IsOptional() @IsString() TENANTS_FILE?: string;
  @IsInt() @Min(1) @Max(1_000_000) TENCENT_RATE_LIMIT = 200;
  @IsInt() @Min(1) @Max(1_000_000) QCHAT_RATE_LIMIT = 100;
  /** How long a QChat app stays blocked after passing its limit (the vendor blocks for 10 s). */
  @IsInt() @Min(0) @Max(3_600_000) QCHAT_RATE_BLOCK_MS = 10_000;
  @IsInt() @Min(60_000) MENTION_RETENTION_MS = 7 * 24 * 3600 * 1000;
  @IsInt() @Min(0) @Max(3_600_000) USERSIG_CACHE_MS = 60_000;
  @IsInt() @Min(0) @Max(65535) HTTP_PORT = 8080;
  /** Port of the projector's Prometheus /metrics endpoint (0 = any free port). */
  @IsInt() @Min(0) @Max(65535) PROJECTOR_METRICS_PORT = 9464;
  @IsString() HTTP_HOST = '0.0.0.0';
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL = 'info';
  /** Upper bound on waiting for Redis or the broker before answering an internal error. */
  @IsInt() @Min(50) @Max(60_000) REQUEST_TIMEOUT_MS = 2_000;
}

/** Every environment variable the apps read (docs/configuration.md lists them with defaults). */
export const ENV_KEYS = [
  'KAFKA_BROKERS',
  'KAFKA_CLIENT_ID',
  'KAFKA_CONSUMER_GROUP',
  'TOPIC_MESSAGE_SENT',
  'TOPIC_READ_ACK',
  'TOPIC_MENTION',
  'TOPIC_DIRECTORY',
  'TOPIC_DEAD_LETTER',
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_KEY_PREFIX',
  'TENANTS_JSON',
  'TENANTS_FILE',
  'TENCENT_RATE_LIMIT',
  'QCHAT_RATE_LIMIT',
  'QCHAT_RATE_BLOCK_MS',
  'MENTION_RETENTION_MS',
  'USERSIG_CACHE_MS',
  'HTTP_PORT',
  'PROJECTOR_METRICS_PORT',
  'HTTP_HOST',
  'LOG_LEVEL',
  'REQUEST_TIMEOUT_MS',
] as const satisfies readonly (keyof Env)[];

export interface AppConfig {
  kafka: { brokers: string[]; clientId: string; consumerGroup: string; topics: TopicNames };
  redis: { url?: string; clusterNodes?: { host: string; port: number }[]; keyPrefix: string };
  tenants: TenantsConfig;
  rateLimits: { tencentPerSecond: number; qchatPerSecond: number; qchatBlockMs: number };
  mentionRetentionMs: number;
  userSigCacheMs: number;
  http: { port: number; host: string };
  projectorMetricsPort: number;
  logLevel: string;
  requestTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const NUMERIC = new Set([
  'TENCENT_RATE_LIMIT',
  'QCHAT_RATE_LIMIT',
  'QCHAT_RATE_BLOCK_MS',
  'MENTION_RETENTION_MS',
  'USERSIG_CACHE_MS',
  'HTTP_PORT',
  'PROJECTOR_METRICS_PORT',
  'REQUEST_TIMEOUT_MS',
]);

function messages(errors: ValidationError[], prefix: string): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => `${path}: ${m}`);
    return [...own, ...messages(e.children ?? [], path)];
  });
}

/**
 * Reads and validates the configuration once. Throws a ConfigError listing every problem.
 * This is the only place that reads process.env.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || v === '') continue;
    if (NUMERIC.has(k)) {
      const n = Number(v);
      if (!/^-?\d+$/.test(v.trim())) problems.push(`${k}: must be an integer, got "${v}"`);
      else raw[k] = n;
    } else {
      raw[k] = v;
    }
  }
  const parsed = plainToInstance(Env, raw, { exposeDefaultValues: true });
  problems.push(
    ...messages(validateSync(parsed, { forbidUnknownValues: false }), '').filter(
      (p) => !problems.some((q) => q.startsWith(p.split(':')[0] + ':')),
    ),
  );
  if (!parsed.REDIS_URL && !parsed.REDIS_CLUSTER_NODES) {
    problems.push('REDIS_URL or REDIS_CLUSTER_NODES: one of them must be set');
  }
  if (parsed.REDIS_URL && parsed.REDIS_CLUSTER_NODES) {
    problems.push('REDIS_URL and REDIS_CLUSTER_NODES: set only one of them');
  }

  let tenants = new TenantsConfig();
  let tenantsJson: string | undefined = parsed.TENANTS_JSON;
  if (parsed.TENANTS_FILE) {
    try {
      tenantsJson = readFileSync(parsed.TENANTS_FILE, 'utf8');
    } catch (err) {
      problems.push(`TENANTS_FILE: cannot read ${parsed.TENANTS_FILE}: ${(err as Error).message}`);
    }
  }
  if (tenantsJson !== undefined) {
    try {
      const plain = JSON.parse(tenantsJson) as unknown;
      if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) throw new Error('must be an object');
      const obj = plain as { tencent?: unknown[]; netease?: unknown[] };
      // sdkAppId may be written as a number
      for (const t of obj.tencent ?? []) {
        if (t && typeof t === 'object' && typeof (t as { sdkAppId?: unknown }).sdkAppId === 'number') {
          (t as { sdkAppId: unknown }).sdkAppId = String((t as { sdkAppId: number }).sdkAppId);
        }
      }
      tenants = plainToInstance(TenantsConfig, plain, { exposeDefaultValues: true });
      problems.push(...messages(validateSync(tenants), 'tenants'));
      const ids = tenants.tencent.map((t) => t.sdkAppId);
      const keys = tenants.netease.map((t) => t.appKey);
      if (new Set(ids).size !== ids.length) problems.push('tenants.tencent: sdkAppId values must be unique');
      if (new Set(keys).size !== keys.length) problems.push('tenants.netease: appKey values must be unique');
    } catch (err) {
      problems.push(`TENANTS_JSON: not valid JSON of {tencent:[...], netease:[...]}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    kafka: {
      brokers: parsed.KAFKA_BROKERS.split(','),
      clientId: parsed.KAFKA_CLIENT_ID,
      consumerGroup: parsed.KAFKA_CONSUMER_GROUP,
      topics: {
        messageSent: parsed.TOPIC_MESSAGE_SENT,
        readAck: parsed.TOPIC_READ_ACK,
        mention: parsed.TOPIC_MENTION,
        directory: parsed.TOPIC_DIRECTORY,
        deadLetter: parsed.TOPIC_DEAD_LETTER,
      },
    },
    redis: {
      url: parsed.REDIS_URL,
      clusterNodes: parsed.REDIS_CLUSTER_NODES?.split(',').map((hp) => {
        const i = hp.lastIndexOf(':');
        return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
      }),
      keyPrefix: parsed.REDIS_KEY_PREFIX,
    },
    tenants,
    rateLimits: {
      tencentPerSecond: parsed.TENCENT_RATE_LIMIT,
      qchatPerSecond: parsed.QCHAT_RATE_LIMIT,
      qchatBlockMs: parsed.QCHAT_RATE_BLOCK_MS,
    },
    mentionRetentionMs: parsed.MENTION_RETENTION_MS,
    userSigCacheMs: parsed.USERSIG_CACHE_MS,
    http: { port: parsed.HTTP_PORT, host: parsed.HTTP_HOST },
    projectorMetricsPort: parsed.PROJECTOR_METRICS_PORT,
    logLevel: parsed.LOG_LEVEL,
    requestTimeoutMs: parsed.REQUEST_TIMEOUT_MS,
  };
}

/**
 * loadConfig for an app's entry point: on a bad configuration, prints every problem under
 * the app's name and exits with status 1 (no stack trace).
 */
export function loadConfigOrExit(app: string, env: NodeJS.ProcessEnv = process.env): AppConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${app}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
