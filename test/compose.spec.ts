import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parse } from 'yaml';
import { randomBytes } from 'node:crypto';
import { ENV_KEYS, loadConfig } from '@app/config';
import { DEFAULT_TOPICS } from '@app/contracts';

/**
 * Compose's interpolation of one value (the compose-spec "Interpolation" rules this file
 * uses): `$$` is a `$`; `${VAR}` / `$VAR`; `${VAR:-default}` (unset or empty) and
 * `${VAR-default}` (unset); `${VAR:?message}` / `${VAR?message}` stop `docker compose` with
 * "VAR: message" (thrown here).
 */
function interpolate(value: string, shell: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const key = (name ?? bare)!;
    const v = shell[key];
    const missing = v === undefined || (colon === ':' && v === '');
    if (!missing || !op) return v ?? '';
    if (op === '-') return arg ?? '';
    throw new Error(`${key}: ${arg ?? 'required'}`);
  });
}

/** A service's environment as the container gets it from `shell`. */
function containerEnv(environment: Record<string, unknown>, shell: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, interpolate(String(v), shell)]));
}

/** What an operator sets for docker compose: their apps, with real (random) secrets. */
const OPERATOR = {
  TENANTS_JSON: JSON.stringify({
    tencent: [{ sdkAppId: '1400000123', secretKey: randomBytes(32).toString('hex'), admins: ['administrator'] }],
    netease: [{ appKey: 'a'.repeat(32), appSecret: randomBytes(12).toString('hex') }],
  }),
  REDIS_PASSWORD: randomBytes(24).toString('hex'),
};
/** Placeholder secrets the apps must refuse (what a copied example would carry). */
const PLACEHOLDERS = {
  TENANTS_JSON: JSON.stringify({
    tencent: [{ sdkAppId: '1400000000', secretKey: 'change-me', admins: ['administrator'] }],
    netease: [{ appKey: 'change-me-appkey', appSecret: 'change-me' }],
  }),
  REDIS_PASSWORD: 'change-me',
};

/** docker-compose.yml cannot run here (no Docker engine): parse it and keep it in step with the config. */
describe('docker-compose.yml', () => {
  const file = readFileSync(join(__dirname, '..', 'docker-compose.yml'), 'utf8');
  const doc = parse(file, { merge: true }) as {
    services: Record<
      string,
      {
        environment?: Record<string, unknown>;
        healthcheck?: { test: unknown };
        deploy?: { replicas?: number };
        command?: unknown;
        depends_on?: Record<string, { condition: string }>;
        profiles?: string[];
        volumes?: string[];
        ports?: string[];
      }
    >;
  };
  const base = Object.entries(doc.services).filter(([, s]) => !s.profiles);

  it('publishes the gateway\'s API port only, and Prometheus scrapes its admin port', () => {
    const gateway = loadConfig(containerEnv(doc.services.gateway!.environment!, OPERATOR));
    expect(doc.services.gateway!.ports).toEqual([`${gateway.http.port}:${gateway.http.port}`]);
    expect(gateway.http.admin.port).not.toBe(gateway.http.port);
    const prom = parse(readFileSync(join(__dirname, '..', 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; metrics_path: string; static_configs?: { targets: string[] }[] }[];
    };
    const job = prom.scrape_configs.find((j) => j.job_name === 'unread-gateway')!;
    expect([job.metrics_path, job.static_configs?.flatMap((c) => c.targets)]).toEqual(['/metrics', [`gateway:${gateway.http.admin.port}`]]);
  });

  it('has Kafka (KRaft), topic creation, Redis, two projector replicas and the gateway, all health-checked', () => {
    expect(base.map(([name]) => name).sort()).toEqual(['gateway', 'kafka', 'kafka-topics', 'projector', 'redis']);
    expect(doc.services.kafka!.environment!.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(doc.services.projector!.deploy!.replicas).toBe(2);
    for (const name of ['kafka', 'redis', 'projector', 'gateway']) expect(doc.services[name]!.healthcheck).toBeDefined();
    expect(doc.services.projector!.depends_on!['kafka-topics']!.condition).toBe('service_completed_successfully');
  });

  it('creates every topic the apps use', () => {
    const script = JSON.stringify(doc.services['kafka-topics']!.command);
    for (const topic of Object.values(DEFAULT_TOPICS)) expect(script).toContain(topic);
    expect(script).toContain(`--topic ${DEFAULT_TOPICS.unreadChanged} --partitions 12 --replication-factor 1 --config cleanup.policy=compact`);
  });

  it.each(['projector', 'gateway'])('gives %s only variables the config knows, and a valid configuration once the operator set TENANTS_JSON', (name) => {
    const env = doc.services[name]!.environment!;
    for (const key of Object.keys(env)) expect(ENV_KEYS).toContain(key);
    expect(loadConfig(containerEnv(env, OPERATOR)).tenants).toEqual(JSON.parse(OPERATOR.TENANTS_JSON));
  });

  it.each(['projector', 'gateway'])('ships no secret for %s: compose stops without TENANTS_JSON, the app refuses placeholders', (name) => {
    const env = doc.services[name]!.environment!;
    expect(() => containerEnv(env, {})).toThrow('TENANTS_JSON: set TENANTS_JSON to your apps and their secrets, see docs/configuration.md');
    expect(file).not.toMatch(/change-me/);
    expect(() => loadConfig(containerEnv(env, PLACEHOLDERS))).toThrow(
      /tenants\.tencent\.0\.secretKey \(TENANTS_JSON\): a placeholder[\s\S]*tenants\.netease\.0\.appSecret \(TENANTS_JSON\): a placeholder/,
    );
  });

  it('checks projector health on its /ready endpoint', () => {
    expect(JSON.stringify(doc.services.projector!.healthcheck!.test)).toContain('http://127.0.0.1:9464/ready');
  });

  it('has a monitoring profile: Prometheus and Grafana, with the repository\'s config and dashboard mounted', () => {
    const monitoring = Object.entries(doc.services).filter(([, s]) => s.profiles?.includes('monitoring'));
    expect(monitoring.map(([name]) => name).sort()).toEqual(['grafana', 'prometheus']);
    const mounts = monitoring.flatMap(([, s]) => s.volumes ?? []).filter((v) => v.startsWith('./'));
    expect(mounts.map((v) => v.split(':')[0]).sort()).toEqual([
      './deploy/grafana/provisioning',
      './deploy/grafana/unread.json',
      './deploy/prometheus/prometheus.yml',
    ]);
    for (const m of mounts) expect(existsSync(join(__dirname, '..', m.split(':')[0]!))).toBe(true);
    expect(doc.services.grafana!.depends_on!.prometheus!.condition).toBe('service_healthy');
  });

  it('provisions the Prometheus data source under the uid every dashboard panel uses', () => {
    const ds = parse(readFileSync(join(__dirname, '..', 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: { uid: string; url: string }[];
    };
    expect(ds.datasources.map((d) => [d.uid, d.url])).toEqual([['unread-prometheus', 'http://prometheus:9090']]);
    const dash = JSON.parse(readFileSync(join(__dirname, '..', 'deploy/grafana/unread.json'), 'utf8')) as {
      panels: { datasource: { uid: string }; targets: { datasource: { uid: string } }[] }[];
    };
    const uids = new Set(dash.panels.flatMap((p) => [p.datasource.uid, ...p.targets.map((t) => t.datasource.uid)]));
    expect([...uids]).toEqual(['unread-prometheus']);
  });
});

/** docker-compose.ha.yml: the same deployment with Redis under Sentinel (primary, replica, three Sentinels). */
describe('docker-compose.ha.yml', () => {
  const file = readFileSync(join(__dirname, '..', 'docker-compose.ha.yml'), 'utf8');
  const doc = parse(file, { merge: true }) as {
    services: Record<
      string,
      { environment?: Record<string, unknown>; healthcheck?: { test: unknown }; command?: unknown; depends_on?: Record<string, { condition: string }> }
    >;
  };
  const sentinels = ['sentinel-1', 'sentinel-2', 'sentinel-3'];
  /** The Sentinel configuration each Sentinel writes at start (`$$` is compose's escape for `$`). */
  const sentinelConf = (name: string) => JSON.stringify(doc.services[name]!.command).replace(/\$\$/g, '$');

  it('has Kafka, a Redis primary and replica, three Sentinels and the apps, all health-checked', () => {
    expect(Object.keys(doc.services).sort()).toEqual(
      ['gateway', 'kafka', 'kafka-topics', 'projector', 'redis-primary', 'redis-replica', ...sentinels].sort(),
    );
    for (const name of ['kafka', 'redis-primary', 'redis-replica', ...sentinels, 'projector', 'gateway']) {
      expect(doc.services[name]!.healthcheck).toBeDefined();
    }
    expect(JSON.stringify(doc.services['redis-replica']!.command)).toContain('--replicaof redis-primary 6379');
    for (const name of ['projector', 'gateway']) {
      for (const s of sentinels) expect(doc.services[name]!.depends_on![s]!.condition).toBe('service_healthy');
    }
  });

  it('has every Sentinel monitor the primary under the master name the apps ask for, with quorum 2, announcing its own name', () => {
    const config = loadConfig(containerEnv(doc.services.projector!.environment!, OPERATOR));
    for (const name of sentinels) {
      const conf = sentinelConf(name);
      expect(conf).toContain(`sentinel monitor ${config.redis.sentinel!.masterName} redis-primary 6379 2`);
      expect(conf).toContain(`sentinel auth-pass ${config.redis.sentinel!.masterName} $REDIS_PASSWORD`);
      expect(conf).toContain('sentinel announce-ip $SENTINEL_NAME');
      expect(doc.services[name]!.environment!.SENTINEL_NAME).toBe(name);
      expect(doc.services[name]!.environment!.REDIS_PASSWORD).toBe(doc.services.projector!.environment!.REDIS_PASSWORD);
    }
  });

  it.each(['projector', 'gateway'])('gives %s only variables the config knows, and a valid Sentinel configuration naming the three Sentinels', (name) => {
    const env = doc.services[name]!.environment!;
    for (const key of Object.keys(env)) expect(ENV_KEYS).toContain(key);
    const config = loadConfig(containerEnv(env, OPERATOR));
    expect(config.redis.sentinel!.sentinels).toEqual(sentinels.map((host) => ({ host, port: 26379 })));
    expect(config.redis.url).toBeUndefined();
    expect(config.redis.password).toBe(OPERATOR.REDIS_PASSWORD);
  });

  it('ships no secret: compose stops without REDIS_PASSWORD or TENANTS_JSON (apps, Redis nodes, Sentinels), the apps refuse placeholders', () => {
    const message = 'REDIS_PASSWORD: set REDIS_PASSWORD to a long random password';
    for (const name of ['projector', 'gateway', 'redis-primary', 'redis-replica', ...sentinels]) {
      expect(() => containerEnv(doc.services[name]!.environment!, { TENANTS_JSON: OPERATOR.TENANTS_JSON })).toThrow(message);
    }
    expect(() => containerEnv(doc.services.projector!.environment!, { REDIS_PASSWORD: OPERATOR.REDIS_PASSWORD })).toThrow('TENANTS_JSON: set TENANTS_JSON');
    expect(file).not.toMatch(/change-me/);
    expect(() => loadConfig(containerEnv(doc.services.gateway!.environment!, PLACEHOLDERS))).toThrow(
      /REDIS_PASSWORD: a placeholder[\s\S]*tenants\.tencent\.0\.secretKey \(TENANTS_JSON\): a placeholder/,
    );
  });

  it('creates every topic the apps use', () => {
    const script = JSON.stringify(doc.services['kafka-topics']!.command);
    for (const topic of Object.values(DEFAULT_TOPICS)) expect(script).toContain(topic);
  });
});

describe('.env', () => {
  it('is ignored by git, as the docs put secrets there (an .env.example is not)', () => {
    const root = join(__dirname, '..');
    const ignored = (path: string) => {
      try {
        execFileSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: root });
        return true;
      } catch {
        return false;
      }
    };
    expect(['.env', '.env.production', 'deploy/.env', '.env.example'].map((p) => [p, ignored(p)])).toEqual([
      ['.env', true],
      ['.env.production', true],
      ['deploy/.env', true],
      ['.env.example', false],
    ]);
  });
});

/** The override of docker-compose.yml that puts the apps on a SASL_SSL listener (not run here: no Docker engine). */
describe('docker-compose.sasl-ssl.yml', () => {
  type Service = { environment?: Record<string, unknown>; volumes?: string[] };
  const load = (f: string) => parse(readFileSync(join(__dirname, '..', f), 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const base = load('docker-compose.yml');
  const override = load('docker-compose.sasl-ssl.yml');
  const password = randomBytes(24).toString('hex');
  // compose merges an override's environment into the base service's, variable by variable
  const envOf = (service: string, shell: Record<string, string>) =>
    containerEnv({ ...base.services[service]!.environment, ...override.services[service]!.environment }, shell);

  it('overrides only services of docker-compose.yml', () => {
    expect(Object.keys(override.services).filter((s) => !base.services[s])).toEqual([]);
  });

  it('points both apps at the SASL_SSL listener the broker advertises, with its CA mounted where the apps read it', () => {
    const kafka = envOf('kafka', {});
    const listeners = Object.fromEntries(kafka.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP!.split(',').map((m) => m.split(':') as [string, string]));
    expect(listeners.SASL_SSL).toBe('SASL_SSL');
    expect(kafka.KAFKA_LISTENERS).toContain('SASL_SSL://:9094');
    for (const app of ['projector', 'gateway']) {
      const env = envOf(app, { ...OPERATOR, KAFKA_SASL_PASSWORD: password });
      expect(kafka.KAFKA_ADVERTISED_LISTENERS!.split(',')).toContain(`SASL_SSL://${env.KAFKA_BROKERS}`);
      expect(kafka.KAFKA_SASL_ENABLED_MECHANISMS!.split(',')).toContain(env.KAFKA_SASL_MECHANISM!.toUpperCase());
      expect(override.services[app]!.volumes!.map((v) => v.split(':')[1])).toContain(env.KAFKA_SSL_CA_FILE);
    }
  });

  it('gives the apps a configuration they accept: TLS with the CA, SASL PLAIN as unread', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unread-compose-'));
    try {
      const ca = join(dir, 'ca.crt');
      writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n');
      for (const app of ['projector', 'gateway']) {
        const config = loadConfig({ ...envOf(app, { ...OPERATOR, KAFKA_SASL_PASSWORD: password }), KAFKA_SSL_CA_FILE: ca });
        expect(config.kafka.brokers).toEqual(['kafka:9094']);
        expect(config.kafka.ssl).toEqual({ ca: readFileSync(ca, 'utf8') });
        expect(config.kafka.sasl).toEqual({ mechanism: 'plain', username: 'unread', password });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ships no secret: compose stops without KAFKA_SASL_PASSWORD, the apps refuse a placeholder', () => {
    expect(() => envOf('gateway', OPERATOR)).toThrow(/^KAFKA_SASL_PASSWORD: set KAFKA_SASL_PASSWORD/);
    const env = envOf('gateway', { ...OPERATOR, KAFKA_SASL_PASSWORD: 'change-me' });
    expect(() => loadConfig({ ...env, KAFKA_SSL_CA_FILE: '/dev/null' })).toThrow(/KAFKA_SASL_PASSWORD: a placeholder/);
  });
});
