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
import { KAFKA_SASL_MECHANISMS, kafkaSecurity, type KafkaSasl, type KafkaTls } from './kafka-security';

/**
 * A secret the apps verify signatures with: at least MIN_SECRET_LENGTH characters, none of
 * them whitespace (the vendors' keys are hex or base64; a blank or one-character "secret"
 * is a mistake that would make every signature guessable).
 */
export const MIN_SECRET_LENGTH = 8;
function IsSecret(name: string): PropertyDecorator {
  return (target: object, key: string | symbol) => {
    IsString()(target, key);
    MinLength(MIN_SECRET_LENGTH, { message: `${name} must be at least ${MIN_SECRET_LENGTH} characters` })(target, key);
    Matches(/^\S*$/, { message: `${name} must not contain whitespace` })(target, key);
  };
}

/** A Tencent Cloud IM app: its SDKAppID, the secret key UserSigs are signed with, and its admins. */
export class TencentAppConfig {
  @Matches(/^[1-9][0-9]{0,9}$/, { message: 'sdkAppId must be a positive integer (as a string or number)' })
  sdkAppId!: string;
  @IsSecret('secretKey') secretKey!: string;
  @IsArray() @ArrayMinSize(1) @IsString({ each: true }) admins!: string[];
  /** Bearer token of the account summary API (docs/api/summary.md); without it the API answers 401 for this app. */
  @IsOptional() @IsString() @MinLength(16, { message: 'apiKey must be at least 16 characters' }) @Matches(/^\S*$/, { message: 'apiKey must not contain whitespace' }) apiKey?: string;
}

/** A NetEase Yunxin app: the AppKey and AppSecret used for CheckSum. */
export class NeteaseAppConfig {
  @IsString() @MinLength(1) @MaxLength(128) appKey!: string;
  @IsSecret('appSecret') appSecret!: string;
  /** Bearer token of the account summary API (docs/api/summary.md); without it the API answers 401 for this app. */
  @IsOptional() @IsString() @MinLength(16, { message: 'apiKey must be at least 16 characters' }) @Matches(/^\S*$/, { message: 'apiKey must not contain whitespace' }) apiKey?: string;
}

export class TenantsConfig {
  @IsArray() @ValidateNested({ each: true }) @Type(() => TencentAppConfig) tencent: TencentAppConfig[] = [];
  @IsArray() @ValidateNested({ each: true }) @Type(() => NeteaseAppConfig) netease: NeteaseAppConfig[] = [];
}

const HOST_PORT_LIST = /^[^,\s]+:\d+(,[^,\s]+:\d+)*$/;
const BOOLEAN = ['true', 'false'];

/**
 * One environment variable: `int` ones are parsed as integers before validation, `rules` are
 * the class-validator decorators its (parsed) value must pass, written in the order they
 * would be written on a property. A variable is required (`required: true`), has a `default`,
 * or is optional (undefined when unset or empty).
 */
interface EnvVar {
  readonly kind?: 'int';
  readonly required?: true;
  readonly default?: string | number;
  readonly rules: readonly PropertyDecorator[];
}

/**
 * Every environment variable the apps read, declared once: this table drives parsing,
 * validation, the defaults, the typed `Env` and ENV_KEYS. docs/configuration.md documents
 * each one (config.spec.ts checks that it lists exactly these, with these defaults).
 */
const ENV = {
  KAFKA_BROKERS: {
    required: true,
    rules: [IsString(), Matches(/^[^,\s]+(,[^,\s]+)*$/, { message: 'KAFKA_BROKERS must be a comma-separated list of host:port' })],
  },
  KAFKA_CLIENT_ID: { default: 'unread', rules: [IsString(), MinLength(1)] },
  KAFKA_CONSUMER_GROUP: { default: 'unread-projector', rules: [IsString(), MinLength(1)] },
  /** TLS to the brokers (SSL or SASL_SSL listeners); the KAFKA_SSL_* files only with it. */
  KAFKA_SSL: { rules: [IsOptional(), IsIn(BOOLEAN, { message: 'KAFKA_SSL must be true or false' })] },
  /** PEM file of the CA(s) that signed the broker certificates; the system's CAs when unset. */
  KAFKA_SSL_CA_FILE: { rules: [IsOptional(), IsString()] },
  /** Client certificate and its key (PEM files), for brokers that authenticate clients by TLS. */
  KAFKA_SSL_CERT_FILE: { rules: [IsOptional(), IsString()] },
  KAFKA_SSL_KEY_FILE: { rules: [IsOptional(), IsString()] },
  KAFKA_SSL_KEY_PASSWORD: { rules: [IsOptional(), IsString()] },
  /** The name the broker certificates are checked against, when it differs from the address connected to. */
  KAFKA_SSL_SERVERNAME: { rules: [IsOptional(), IsString()] },
  KAFKA_SASL_MECHANISM: {
    rules: [IsOptional(), IsIn(KAFKA_SASL_MECHANISMS, { message: `KAFKA_SASL_MECHANISM must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}` })],
  },
  KAFKA_SASL_USERNAME: { rules: [IsOptional(), IsString(), MinLength(1)] },
  KAFKA_SASL_PASSWORD: { rules: [IsOptional(), IsString(), MinLength(1)] },
  /** File holding the OAUTHBEARER token, read again at every authentication (whatever renews the token rewrites it). */
  KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: { rules: [IsOptional(), IsString()] },
  TOPIC_MESSAGE_SENT: { default: DEFAULT_TOPICS.messageSent, rules: [IsString(), MinLength(1)] },
  TOPIC_READ_ACK: { default: DEFAULT_TOPICS.readAck, rules: [IsString(), MinLength(1)] },
  TOPIC_MENTION: { default: DEFAULT_TOPICS.mention, rules: [IsString(), MinLength(1)] },
  TOPIC_DIRECTORY: { default: DEFAULT_TOPICS.directory, rules: [IsString(), MinLength(1)] },
  TOPIC_DEAD_LETTER: { default: DEFAULT_TOPICS.deadLetter, rules: [IsString(), MinLength(1)] },
  TOPIC_UNREAD_CHANGED: { default: DEFAULT_TOPICS.unreadChanged, rules: [IsString(), MinLength(1)] },
  /** Whether the projector writes the change feed (TOPIC_UNREAD_CHANGED). */
  CHANGE_FEED: { default: 'false', rules: [IsIn(BOOLEAN, { message: 'CHANGE_FEED must be true or false' })] },
  /** Exactly one of REDIS_URL (a single Redis), REDIS_CLUSTER_NODES (host:port,...) or REDIS_SENTINELS (host:port,...). */
  REDIS_URL: { rules: [IsOptional(), Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })] },
  REDIS_CLUSTER_NODES: { rules: [IsOptional(), Matches(HOST_PORT_LIST, { message: 'REDIS_CLUSTER_NODES must be host:port,host:port,...' })] },
  REDIS_SENTINELS: { rules: [IsOptional(), Matches(HOST_PORT_LIST, { message: 'REDIS_SENTINELS must be host:port,host:port,...' })] },
  /** The master name the Sentinels monitor (`sentinel monitor <name> …`). */
  REDIS_SENTINEL_MASTER: {
    rules: [IsOptional(), Matches(/^[^\s]{1,128}$/, { message: 'REDIS_SENTINEL_MASTER must be 1-128 characters without spaces' })],
  },
  REDIS_SENTINEL_USERNAME: { rules: [IsOptional(), IsString()] },
  REDIS_SENTINEL_PASSWORD: { rules: [IsOptional(), IsString()] },
  REDIS_SENTINEL_TLS: { rules: [IsOptional(), IsIn(BOOLEAN, { message: 'REDIS_SENTINEL_TLS must be true or false' })] },
  /** ACL user and password of the Redis nodes (REDIS_URL may carry them instead). */
  REDIS_USERNAME: { rules: [IsOptional(), IsString()] },
  REDIS_PASSWORD: { rules: [IsOptional(), IsString()] },
  /** Database number under Sentinel (REDIS_URL carries its own; Redis Cluster has only 0). */
  REDIS_DB: { kind: 'int', rules: [IsOptional(), IsInt(), Min(0), Max(65535)] },
  REDIS_TLS: { rules: [IsOptional(), IsIn(BOOLEAN, { message: 'REDIS_TLS must be true or false' })] },
  /** PEM file of the CA(s) that signed the Redis (and Sentinel) certificates; the system's CAs when unset. */
  REDIS_TLS_CA_FILE: { rules: [IsOptional(), IsString()] },
  /** The name the Redis certificates are checked against, when it differs from the address connected to (Sentinel answers IPs). */
  REDIS_TLS_SERVERNAME: { rules: [IsOptional(), IsString()] },
  /** Prefix of every projection key (a deployment can share one Redis between environments). */
  REDIS_KEY_PREFIX: {
    default: 'u',
    rules: [IsString(), Matches(/^[A-Za-z0-9_.-]{1,32}$/, { message: 'REDIS_KEY_PREFIX must be 1-32 characters of A-Z a-z 0-9 _ . -' })],
  },
  /** JSON of TenantsConfig, or TENANTS_FILE naming a file with that JSON. */
  TENANTS_JSON: { rules: [IsOptional(), IsString()] },
  TENANTS_FILE: { rules: [IsOptional(), IsString()] },
  /** `true` lets known placeholder secrets (PLACEHOLDER_SECRETS) through: for a development machine only. */
  ALLOW_PLACEHOLDER_SECRETS: { default: 'false', rules: [IsIn(BOOLEAN, { message: 'ALLOW_PLACEHOLDER_SECRETS must be true or false' })] },
  TENCENT_RATE_LIMIT: { kind: 'int', default: 200, rules: [IsInt(), Min(1), Max(1_000_000)] },
  QCHAT_RATE_LIMIT: { kind: 'int', default: 100, rules: [IsInt(), Min(1), Max(1_000_000)] },
  /** How long a QChat app stays blocked after passing its limit (the vendor blocks for 10 s). */
  QCHAT_RATE_BLOCK_MS: { kind: 'int', default: 10_000, rules: [IsInt(), Min(0), Max(3_600_000)] },
  /** Accounts per second per app over the summary API (a batch charges each of its accounts), shared by all replicas. */
  SUMMARY_RATE_LIMIT: { kind: 'int', default: 1000, rules: [IsInt(), Min(1), Max(1_000_000)] },
  /** Channel reads per second per app over the summary API (a call charges 100 per account it names), shared by all replicas. */
  SUMMARY_CHANNEL_RATE_LIMIT: { kind: 'int', default: 100_000, rules: [IsInt(), Min(100), Max(100_000_000)] },
  /** Channel reads one summary call may fan out to (100 per account it names); a larger call is refused before any read. */
  SUMMARY_CHANNEL_BUDGET: { kind: 'int', default: 10_000, rules: [IsInt(), Min(100), Max(10_000)] },
  /** Failed authentications per app per second per replica before unproven credentials are refused unchecked. */
  AUTH_FAILURE_LIMIT: { kind: 'int', default: 20, rules: [IsInt(), Min(1), Max(1_000_000)] },
  MENTION_RETENTION_MS: { kind: 'int', default: 7 * 24 * 3600 * 1000, rules: [IsInt(), Min(60_000)] },
  /**
   * Unread ids tracked per one-to-one conversation (docs/projections.md, "The cap"): at least
   * 100, so a client's "99+" stays true; the same for every projector and rebuild.
   */
  C2C_UNREAD_CAP: {
    kind: 'int',
    default: 1000,
    rules: [IsInt(), Min(100, { message: 'C2C_UNREAD_CAP must be at least 100 (a client showing "99+" must be able to trust it)' }), Max(1_000_000)],
  },
  /** A group's seqs that do not count are kept only within this many seqs of its newest (docs/projections.md, "The horizon"). */
  GROUP_UNCOUNTED_HORIZON: { kind: 'int', default: 1_000, rules: [IsInt(), Min(1), Max(1_000_000_000)] },
  USERSIG_CACHE_MS: { kind: 'int', default: 60_000, rules: [IsInt(), Min(0), Max(3_600_000)] },
  HTTP_PORT: { kind: 'int', default: 8080, rules: [IsInt(), Min(0), Max(65535)] },
  /** Port of the projector's Prometheus /metrics endpoint (0 = any free port). */
  PROJECTOR_METRICS_PORT: { kind: 'int', default: 9464, rules: [IsInt(), Min(0), Max(65535)] },
  /** How often the projector commits applied positions to Kafka (coalesced, asynchronous). */
  PROJECTOR_COMMIT_INTERVAL_MS: { kind: 'int', default: 100, rules: [IsInt(), Min(10), Max(600_000)] },
  /** Events fetched but not yet applied, at most, per projector (back-pressure on fetching). */
  PROJECTOR_MAX_IN_FLIGHT_EVENTS: { kind: 'int', default: 50_000, rules: [IsInt(), Min(100), Max(10_000_000)] },
  /** How often the projector samples its consumer lag and the Redis round trip. */
  PROJECTOR_MONITOR_INTERVAL_MS: { kind: 'int', default: 5_000, rules: [IsInt(), Min(50), Max(600_000)] },
  HTTP_HOST: { default: '0.0.0.0', rules: [IsString()] },
  /** The gateway's admin port: /metrics, /openapi.json, /asyncapi.json, /docs (never on HTTP_PORT). */
  GATEWAY_ADMIN_PORT: { kind: 'int', default: 9465, rules: [IsInt(), Min(0), Max(65535)] },
  /** The admin port's listen address; HTTP_HOST when unset. */
  GATEWAY_ADMIN_HOST: { rules: [IsOptional(), IsString()] },
  /** PEM certificate (chain) and key of the public port: HTTPS when both are set. */
  GATEWAY_TLS_CERT_FILE: { rules: [IsOptional(), IsString()] },
  GATEWAY_TLS_KEY_FILE: { rules: [IsOptional(), IsString()] },
  /** `false` leaves the Swagger UI (/docs) out; /openapi.json stays on the admin port. */
  GATEWAY_DOCS_UI: { default: 'true', rules: [IsIn(BOOLEAN, { message: 'GATEWAY_DOCS_UI must be true or false' })] },
  LOG_LEVEL: { default: 'info', rules: [IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])] },
  /** Upper bound on waiting for Redis or the broker before answering an internal error. */
  REQUEST_TIMEOUT_MS: { kind: 'int', default: 2_000, rules: [IsInt(), Min(50), Max(60_000)] },
} as const satisfies Record<string, EnvVar>;

type Declared = typeof ENV;
type ValueOf<V> = V extends { kind: 'int' } ? number : string;
/** The environment as validated: required and defaulted variables are always present. */
export type Env = {
  [K in keyof Declared]: Declared[K] extends { required: true } | { default: unknown } ? ValueOf<Declared[K]> : ValueOf<Declared[K]> | undefined;
};
export type EnvKey = keyof Declared;

/** Every environment variable the apps read (docs/configuration.md lists them with defaults). */
export const ENV_KEYS = Object.keys(ENV) as EnvKey[];

/** A variable's declaration, for documentation checks: whether it is required, its default. */
export function envDeclaration(key: EnvKey): { required: boolean; default?: string } {
  const v: EnvVar = ENV[key];
  return { required: v.required === true, ...(v.default !== undefined ? { default: String(v.default) } : {}) };
}

/** The class class-validator checks: one property per variable, decorated from ENV. */
class EnvSchema {}
for (const [key, v] of Object.entries(ENV) as [string, EnvVar][]) {
  // decorators written `@A() @B() x` apply B first: keep that order (and so the order of messages)
  for (const rule of [...v.rules].reverse()) rule(EnvSchema.prototype, key);
}

export interface HostPort {
  host: string;
  port: number;
}

/** TLS towards Redis or the Sentinels: on when present; `ca` is the PEM text of REDIS_TLS_CA_FILE. */
export interface RedisTls {
  ca?: string;
  servername?: string;
}

/** Where Redis is and how to reach it: exactly one of `url`, `clusterNodes`, `sentinel`. */
export interface RedisConfig {
  url?: string;
  clusterNodes?: HostPort[];
  sentinel?: { sentinels: HostPort[]; masterName: string; username?: string; password?: string; tls?: RedisTls };
  /** ACL user and password of the Redis nodes (for `url`, only when the URL carries none). */
  username?: string;
  password?: string;
  /** Database number (Sentinel only; a URL carries its own). */
  db?: number;
  /** TLS to the Redis nodes (for `url`, rediss:// turns it on as well). */
  tls?: RedisTls;
  keyPrefix: string;
}

export interface AppConfig {
  kafka: {
    brokers: string[];
    clientId: string;
    consumerGroup: string;
    topics: TopicNames;
    /** TLS to the brokers (KAFKA_SSL=true); absent for a PLAINTEXT or SASL_PLAINTEXT listener. */
    ssl?: KafkaTls;
    /** SASL authentication (KAFKA_SASL_MECHANISM); absent when the listener takes anyone. */
    sasl?: KafkaSasl;
  };
  redis: RedisConfig;
  tenants: TenantsConfig;
  rateLimits: {
    tencentPerSecond: number;
    qchatPerSecond: number;
    qchatBlockMs: number;
    /** Accounts per second per app over the summary API (SUMMARY_RATE_LIMIT). */
    summaryAccountsPerSecond: number;
    /** Channel reads per second per app over the summary API (SUMMARY_CHANNEL_RATE_LIMIT). */
    summaryChannelsPerSecond: number;
    /** Channel reads one summary call may fan out to (SUMMARY_CHANNEL_BUDGET). */
    summaryChannelBudget: number;
    /** Failed authentications per app per second per replica (AUTH_FAILURE_LIMIT). */
    authFailuresPerSecond: number;
  };
  mentionRetentionMs: number;
  /** Unread ids tracked per one-to-one conversation at most (C2C_UNREAD_CAP). */
  c2cUnreadCap: number;
  /** GROUP_UNCOUNTED_HORIZON (seqs). */
  groupUncountedHorizon: number;
  userSigCacheMs: number;
  http: {
    port: number;
    host: string;
    /** The admin listener (metrics, API documents, docs UI). */
    admin: { port: number; host: string };
    docsUi: boolean;
    /** HTTPS on the public port: the PEM texts of GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE. */
    tls?: { cert: string; key: string };
  };
  projectorMetricsPort: number;
  projector: { commitIntervalMs: number; maxInFlightEvents: number };
  projectorMonitorIntervalMs: number;
  /** The change feed (docs/events.md): off by default (CHANGE_FEED=true), written to kafka.topics.unreadChanged. */
  changeFeed: { enabled: boolean };
  logLevel: string;
  requestTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Values that are never a real secret: what examples and compose files ship (`change-me`)
 * and the usual stand-ins. Compared case-insensitively, ignoring everything but letters and
 * digits (`Change_Me`, `CHANGE-ME-2` are refused too: anything starting with changeme or
 * replaceme).
 */
export const PLACEHOLDER_SECRETS = ['change-me', 'replace-me', 'changeit', 'placeholder', 'your-secret', 'your-password', 'xxx'] as const;

/** True when `secret` is one of PLACEHOLDER_SECRETS (docs/configuration.md). */
export function isPlaceholderSecret(secret: string): boolean {
  const n = secret.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (n.startsWith('changeme') || n.startsWith('replaceme')) return true;
  if (/^x+$/.test(n) && n.length >= 3) return true;
  return PLACEHOLDER_SECRETS.some((p) => p.replace(/[^a-z0-9]/g, '') === n);
}

/** A problem for every secret that is a placeholder, named by where it was set. */
function placeholderProblems(env: Env, tenants: TenantsConfig, tenantsFrom: string): string[] {
  const secrets: [string, string | undefined][] = [
    ['REDIS_PASSWORD', env.REDIS_PASSWORD],
    ['KAFKA_SASL_PASSWORD', env.KAFKA_SASL_PASSWORD],
    ['KAFKA_SSL_KEY_PASSWORD', env.KAFKA_SSL_KEY_PASSWORD],
    ['REDIS_SENTINEL_PASSWORD', env.REDIS_SENTINEL_PASSWORD],
    ['REDIS_URL (password)', urlPassword(env.REDIS_URL)],
    ...tenants.tencent.flatMap((t, i): [string, string | undefined][] => [
      [`tenants.tencent.${i}.secretKey (${tenantsFrom})`, t.secretKey],
      [`tenants.tencent.${i}.apiKey (${tenantsFrom})`, t.apiKey],
    ]),
    ...tenants.netease.flatMap((t, i): [string, string | undefined][] => [
      [`tenants.netease.${i}.appSecret (${tenantsFrom})`, t.appSecret],
      [`tenants.netease.${i}.apiKey (${tenantsFrom})`, t.apiKey],
    ]),
  ];
  return secrets
    .filter(([, v]) => typeof v === 'string' && isPlaceholderSecret(v))
    .map(([where]) => `${where}: a placeholder, not a secret: set a real one (ALLOW_PLACEHOLDER_SECRETS=true accepts it, on a development machine only)`);
}

/**
 * What is wrong with the tenants' JSON, without quoting it: JSON.parse's own message echoes
 * a piece of the text, which may be a secret, and this one goes to stderr and the logs.
 */
function jsonProblem(err: unknown): string {
  if (!(err instanceof SyntaxError)) return `not valid JSON of {tencent:[...], netease:[...]}: ${(err as Error).message}`;
  const at = /position (\d+)/.exec(err.message);
  return `not valid JSON of {tencent:[...], netease:[...]}${at ? ` (at character ${at[1]})` : /end of JSON/i.test(err.message) ? ' (it ends too early)' : ''}`;
}

function urlPassword(url: string | undefined): string | undefined {
  try {
    return url ? decodeURIComponent(new URL(url).password) || undefined : undefined;
  } catch {
    return undefined;
  }
}

function messages(errors: ValidationError[], prefix: string): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => `${path}: ${m}`);
    return [...own, ...messages(e.children ?? [], path)];
  });
}

function hostPorts(list: string | undefined): HostPort[] | undefined {
  return list?.split(',').map((hp) => {
    const i = hp.lastIndexOf(':');
    return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
  });
}

/**
 * The combinations of Redis variables that cannot work (each one is a problem of its own,
 * so the refusal lists them all), and the TLS settings they give.
 */
function redisProblems(env: Env, problems: string[], requireRedis: boolean): { nodes?: RedisTls; sentinel?: RedisTls } {
  const modes = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((k) => env[k]);
  if (modes.length === 0 && requireRedis) problems.push('REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS: one of them must be set');
  if (modes.length > 1) problems.push(`${modes.join(' and ')}: set only one of them`);

  const sentinelOnly = ['REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_SENTINEL_TLS'] as const;
  if (env.REDIS_SENTINELS) {
    if (!env.REDIS_SENTINEL_MASTER) problems.push('REDIS_SENTINEL_MASTER: required with REDIS_SENTINELS (the name in `sentinel monitor <name> …`)');
  } else {
    for (const k of sentinelOnly) if (env[k] !== undefined) problems.push(`${k}: only meaningful with REDIS_SENTINELS`);
  }
  if (env.REDIS_DB !== undefined && !env.REDIS_SENTINELS) {
    problems.push(
      env.REDIS_CLUSTER_NODES
        ? 'REDIS_DB: Redis Cluster has only database 0'
        : 'REDIS_DB: only with REDIS_SENTINELS (REDIS_URL carries the database: redis://host:port/N)',
    );
  }

  let urlTls = false;
  if (env.REDIS_URL && /^rediss?:\/\/.+/.test(env.REDIS_URL)) {
    try {
      const url = new URL(env.REDIS_URL);
      urlTls = url.protocol === 'rediss:';
      if (url.password && env.REDIS_PASSWORD !== undefined) problems.push('REDIS_PASSWORD: REDIS_URL carries a password already; set it in one place');
      if (url.username && env.REDIS_USERNAME !== undefined) problems.push('REDIS_USERNAME: REDIS_URL carries a user name already; set it in one place');
    } catch {
      problems.push('REDIS_URL: not a valid URL');
    }
  }
  if (urlTls && env.REDIS_TLS === 'false') problems.push('REDIS_TLS: false contradicts the rediss:// of REDIS_URL');

  const nodesTls = urlTls || env.REDIS_TLS === 'true';
  const sentinelTls = Boolean(env.REDIS_SENTINELS) && (env.REDIS_SENTINEL_TLS ?? env.REDIS_TLS) === 'true';
  const anyTls = nodesTls || sentinelTls;
  let ca: string | undefined;
  if (env.REDIS_TLS_CA_FILE !== undefined) {
    if (!anyTls) problems.push('REDIS_TLS_CA_FILE: only meaningful with TLS (REDIS_TLS=true, rediss:// or REDIS_SENTINEL_TLS=true)');
    try {
      ca = readFileSync(env.REDIS_TLS_CA_FILE, 'utf8');
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) problems.push(`REDIS_TLS_CA_FILE: ${env.REDIS_TLS_CA_FILE} holds no PEM certificate`);
    } catch (err) {
      problems.push(`REDIS_TLS_CA_FILE: cannot read ${env.REDIS_TLS_CA_FILE}: ${(err as Error).message}`);
    }
  }
  if (env.REDIS_TLS_SERVERNAME !== undefined && !anyTls) {
    problems.push('REDIS_TLS_SERVERNAME: only meaningful with TLS (REDIS_TLS=true, rediss:// or REDIS_SENTINEL_TLS=true)');
  }
  const tls: RedisTls = {
    ...(ca !== undefined ? { ca } : {}),
    ...(env.REDIS_TLS_SERVERNAME !== undefined ? { servername: env.REDIS_TLS_SERVERNAME } : {}),
  };
  return { nodes: nodesTls ? tls : undefined, sentinel: sentinelTls ? tls : undefined };
}

/** The public port's certificate and key, read at start: both or neither, each a readable PEM file. */
function gatewayTlsFiles(env: Env, problems: string[]): { cert: string; key: string } | undefined {
  const certFile = env.GATEWAY_TLS_CERT_FILE;
  const keyFile = env.GATEWAY_TLS_KEY_FILE;
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    problems.push(`${certFile === undefined ? 'GATEWAY_TLS_CERT_FILE' : 'GATEWAY_TLS_KEY_FILE'}: required with ${certFile === undefined ? 'GATEWAY_TLS_KEY_FILE' : 'GATEWAY_TLS_CERT_FILE'} (HTTPS needs both)`);
    return undefined;
  }
  const read = (name: string, file: string, marker: RegExp): string | undefined => {
    try {
      const text = readFileSync(file, 'utf8');
      if (!marker.test(text)) problems.push(`${name}: ${file} holds no PEM ${name.includes('CERT') ? 'certificate' : 'private key'}`);
      return text;
    } catch (err) {
      problems.push(`${name}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      return undefined;
    }
  };
  const cert = read('GATEWAY_TLS_CERT_FILE', certFile, /-----BEGIN CERTIFICATE-----/);
  const key = read('GATEWAY_TLS_KEY_FILE', keyFile, /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/);
  return cert !== undefined && key !== undefined ? { cert, key } : undefined;
}

/**
 * Reads and validates the configuration once. Throws a ConfigError listing every problem.
 * The only reader of process.env besides the bench's two preloads (cpu-profile.preload.ts,
 * fetch-settings.preload.ts: they run before any app code, in processes the bench starts). `requireRedis: false` is for tools that
 * only talk to Kafka (`unread produce`): then neither Redis variable is required.
 * `requireTenants: true` (the gateway) refuses a configuration without any app.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: { requireRedis?: boolean; requireTenants?: boolean } = {}): AppConfig {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, v] of Object.entries(ENV) as [EnvKey, EnvVar][]) {
    const value = env[key];
    if (value === undefined || value === '') {
      if (v.default !== undefined) raw[key] = v.default;
    } else if (v.kind === 'int') {
      if (!/^-?\d+$/.test(value.trim())) problems.push(`${key}: must be an integer, got "${value}"`);
      else raw[key] = Number(value);
    } else {
      raw[key] = value;
    }
  }
  problems.push(
    ...messages(validateSync(Object.assign(new EnvSchema(), raw), { forbidUnknownValues: false }), '').filter(
      (p) => !problems.some((q) => q.startsWith(p.split(':')[0] + ':')),
    ),
  );
  const parsed = raw as Env;
  const redisTls = redisProblems(parsed, problems, opts.requireRedis !== false);
  const gatewayTls = gatewayTlsFiles(parsed, problems);
  const kafkaSec = kafkaSecurity(parsed, problems);

  let tenants = new TenantsConfig();
  let tenantsJson: string | undefined = parsed.TENANTS_JSON;
  const tenantsFrom = parsed.TENANTS_FILE ? 'TENANTS_FILE' : 'TENANTS_JSON';
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
      // Events, keys and the summary API name a tenant by its id alone: a NetEase app whose
      // AppKey is a Tencent app's SDKAppID would share every key and answer with its data.
      tenants.netease.forEach((t, i) => {
        const j = ids.indexOf(t.appKey);
        if (j >= 0) problems.push(`tenants.netease.${i}.appKey: equals tenants.tencent.${j}.sdkAppId; a tenant id must name one app of one vendor`);
      });
    } catch (err) {
      problems.push(`${tenantsFrom}: ${jsonProblem(err)}`);
    }
  }
  if (opts.requireTenants && tenants.tencent.length + tenants.netease.length === 0) {
    problems.push(`TENANTS_JSON or TENANTS_FILE: the gateway needs at least one app (tencent or netease); it would answer every call as an unknown app`);
  }
  if (parsed.ALLOW_PLACEHOLDER_SECRETS !== 'true') problems.push(...placeholderProblems(parsed, tenants, tenantsFrom));
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
        unreadChanged: parsed.TOPIC_UNREAD_CHANGED,
      },
      ...(kafkaSec.ssl ? { ssl: kafkaSec.ssl } : {}),
      ...(kafkaSec.sasl ? { sasl: kafkaSec.sasl } : {}),
    },
    redis: {
      url: parsed.REDIS_URL,
      clusterNodes: hostPorts(parsed.REDIS_CLUSTER_NODES),
      sentinel: parsed.REDIS_SENTINELS
        ? {
            sentinels: hostPorts(parsed.REDIS_SENTINELS)!,
            masterName: parsed.REDIS_SENTINEL_MASTER!,
            username: parsed.REDIS_SENTINEL_USERNAME,
            password: parsed.REDIS_SENTINEL_PASSWORD,
            tls: redisTls.sentinel,
          }
        : undefined,
      username: parsed.REDIS_USERNAME,
      password: parsed.REDIS_PASSWORD,
      db: parsed.REDIS_DB,
      tls: redisTls.nodes,
      keyPrefix: parsed.REDIS_KEY_PREFIX,
    },
    tenants,
    rateLimits: {
      tencentPerSecond: parsed.TENCENT_RATE_LIMIT,
      qchatPerSecond: parsed.QCHAT_RATE_LIMIT,
      qchatBlockMs: parsed.QCHAT_RATE_BLOCK_MS,
      summaryAccountsPerSecond: parsed.SUMMARY_RATE_LIMIT,
      summaryChannelsPerSecond: parsed.SUMMARY_CHANNEL_RATE_LIMIT,
      summaryChannelBudget: parsed.SUMMARY_CHANNEL_BUDGET,
      authFailuresPerSecond: parsed.AUTH_FAILURE_LIMIT,
    },
    mentionRetentionMs: parsed.MENTION_RETENTION_MS,
    c2cUnreadCap: parsed.C2C_UNREAD_CAP,
    groupUncountedHorizon: parsed.GROUP_UNCOUNTED_HORIZON,
    userSigCacheMs: parsed.USERSIG_CACHE_MS,
    http: {
      port: parsed.HTTP_PORT,
      host: parsed.HTTP_HOST,
      admin: { port: parsed.GATEWAY_ADMIN_PORT, host: parsed.GATEWAY_ADMIN_HOST ?? parsed.HTTP_HOST },
      docsUi: parsed.GATEWAY_DOCS_UI === 'true',
      ...(gatewayTls ? { tls: gatewayTls } : {}),
    },
    projectorMetricsPort: parsed.PROJECTOR_METRICS_PORT,
    projector: { commitIntervalMs: parsed.PROJECTOR_COMMIT_INTERVAL_MS, maxInFlightEvents: parsed.PROJECTOR_MAX_IN_FLIGHT_EVENTS },
    projectorMonitorIntervalMs: parsed.PROJECTOR_MONITOR_INTERVAL_MS,
    changeFeed: { enabled: parsed.CHANGE_FEED === 'true' },
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
    return loadConfig(env, { requireTenants: app === 'gateway' });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${app}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
