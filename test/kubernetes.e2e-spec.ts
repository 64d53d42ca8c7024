import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { ENV_KEYS, loadConfig } from '@app/config';

/** The parts of the Kubernetes objects this test reads (the schemas check the rest). */
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } | Record<string, string>;
    template?: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
    scaleTargetRef?: { apiVersion: string; kind: string; name: string };
    minReplicas?: number;
    maxReplicas?: number;
    ports?: { targetPort: string }[];
  };
}
interface Probe {
  httpGet?: { path: string; port: string };
  tcpSocket?: { port: string };
}
interface Container {
  name: string;
  envFrom?: ({ configMapRef?: { name: string } } & { secretRef?: { name: string } })[];
  env?: { name: string; value: string }[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}

const DIR = join(__dirname, '..', 'deploy', 'k8s');
const kustomization = parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
const objects: K8sObject[] = kustomization.resources.flatMap((f) =>
  parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.toJS() as K8sObject),
);
const find = (kind: string, name: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`deploy/k8s has no ${kind} ${name}`);
  return o;
};
const container = (deployment: string): Container => find('Deployment', deployment).spec!.template!.spec.containers[0]!;
const envValue = (c: Container, name: string): string | undefined => c.env?.find((e) => e.name === name)?.value;
const portOf = (c: Container, name: string): number | undefined => c.ports?.find((p) => p.name === name)?.containerPort;

/** What the container's process sees: its ConfigMaps and Secrets (envFrom), then its own env. */
function podEnv(c: Container, secrets: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, find('ConfigMap', from.configMapRef.name).data);
    if (from.secretRef) Object.assign(env, find('Secret', from.secretRef.name).stringData, secrets);
  }
  for (const e of c.env ?? []) env[e.name] = e.value;
  return env;
}

describe('deploy/k8s', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'unread-k8s-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('every object is valid against the Kubernetes schemas (kubernetes-models)', () => {
    const run = spawnSync(process.execPath, [join(__dirname, 'kubernetes-validate.mjs')], { input: JSON.stringify(objects), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const results = JSON.parse(run.stdout) as { kind: string; name: string; errors: string[] | null }[];
    expect(results).toEqual(objects.map((o) => ({ kind: o.kind, name: o.metadata.name, errors: [] })));
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/unread-config',
        'ConfigMap/unread-kafka-ca',
        'Secret/unread-credentials',
        'Deployment/unread-projector',
        'PodDisruptionBudget/unread-projector',
        'Deployment/unread-gateway',
        'Service/unread-gateway',
        'HorizontalPodAutoscaler/unread-gateway',
        'PodDisruptionBudget/unread-gateway',
      ].sort(),
    );
  });

  it('the validator refuses an invalid object (the check can fail)', () => {
    const bad = structuredClone(find('Deployment', 'unread-gateway')) as unknown as { spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } } };
    bad.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'eighty';
    const run = spawnSync(process.execPath, [join(__dirname, 'kubernetes-validate.mjs')], { input: JSON.stringify([bad]), encoding: 'utf8' });
    expect((JSON.parse(run.stdout) as { errors: string[] }[])[0]!.errors).toEqual([expect.stringMatching(/containerPort must be integer/)]);
  });

  it('readiness probes ask the ready endpoints, on the ports the apps listen on', () => {
    const projector = container('unread-projector');
    const metricsPort = Number(envValue(projector, 'PROJECTOR_METRICS_PORT'));
    expect(portOf(projector, 'metrics')).toBe(metricsPort);
    expect(projector.readinessProbe?.httpGet).toEqual({ path: '/ready', port: 'metrics' });
    const gateway = container('unread-gateway');
    expect(portOf(gateway, 'http')).toBe(Number(envValue(gateway, 'HTTP_PORT')));
    expect(portOf(gateway, 'admin')).toBe(Number(envValue(gateway, 'GATEWAY_ADMIN_PORT')));
    expect(gateway.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(gateway.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
    // the public Service exposes the API port only, never the admin port
    expect(find('Service', 'unread-gateway').spec!.ports!.map((p) => p.targetPort)).toEqual(['http']);
  });

  it('Prometheus scrapes the admin ports', () => {
    const scrape = (d: string) => find('Deployment', d).spec!.template!.metadata.annotations!;
    expect(scrape('unread-projector')).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics', 'prometheus.io/port': envValue(container('unread-projector'), 'PROJECTOR_METRICS_PORT') });
    expect(scrape('unread-gateway')).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics', 'prometheus.io/port': envValue(container('unread-gateway'), 'GATEWAY_ADMIN_PORT') });
  });

  it('projector replicas stay at or below the partitions; the gateway scales on CPU between 2 and 10', () => {
    const projector = find('Deployment', 'unread-projector');
    const partitions = Number(projector.metadata.annotations?.['unread/topic-partitions']);
    expect(partitions).toBeGreaterThan(0);
    expect(projector.spec!.replicas).toBeLessThanOrEqual(partitions);
    // the count this file assumes is the one docker-compose.yml creates the consumed topics with
    expect(readFileSync(join(__dirname, '..', 'docker-compose.yml'), 'utf8')).toMatch(new RegExp(`--topic "\\$\\$t" --partitions ${partitions} `));
    const hpa = find('HorizontalPodAutoscaler', 'unread-gateway');
    expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'unread-gateway' });
    expect(hpa.spec!.minReplicas).toBeGreaterThanOrEqual(2);
    expect(objects.some((o) => o.kind === 'HorizontalPodAutoscaler' && o.spec!.scaleTargetRef!.name === 'unread-projector')).toBe(false);
  });

  it('each Deployment has a PodDisruptionBudget selecting its pods, and resources on every container', () => {
    for (const d of ['unread-projector', 'unread-gateway']) {
      const labels = find('Deployment', d).spec!.template!.metadata.labels;
      const pdb = find('PodDisruptionBudget', d);
      const selector = (pdb.spec!.selector as { matchLabels: Record<string, string> }).matchLabels;
      expect(Object.entries(selector).every(([k, v]) => labels[k] === v)).toBe(true);
      const c = container(d);
      expect(c.resources?.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(c.resources?.limits?.memory).toEqual(expect.any(String));
    }
  });

  it('names only variables the apps read, and the CA file where the volume puts it', () => {
    for (const d of ['unread-projector', 'unread-gateway']) {
      const c = container(d);
      for (const name of Object.keys(podEnv(c))) expect([d, name, ENV_KEYS.includes(name as never)]).toEqual([d, name, true]);
      const ca = podEnv(c).KAFKA_SSL_CA_FILE!;
      const volume = find('Deployment', d).spec!.template!.spec.volumes!.find((v) => v.configMap?.name === 'unread-kafka-ca')!;
      const mount = c.volumeMounts!.find((m) => m.name === volume.name)!;
      expect(Object.keys(find('ConfigMap', 'unread-kafka-ca').data!).map((k) => join(mount.mountPath, k))).toContain(ca);
    }
  });

  it('ships no secret: the apps refuse the Secret as it is, and start with real values in it', () => {
    const caFile = join(tmp, 'ca.crt');
    writeFileSync(caFile, find('ConfigMap', 'unread-kafka-ca').data!['ca.crt']!);
    for (const d of ['unread-projector', 'unread-gateway']) {
      const asShipped = { ...podEnv(container(d)), KAFKA_SSL_CA_FILE: caFile };
      expect(() => loadConfig(asShipped)).toThrow(/KAFKA_SASL_PASSWORD: a placeholder[\s\S]*REDIS_PASSWORD: a placeholder|REDIS_PASSWORD: a placeholder[\s\S]*KAFKA_SASL_PASSWORD: a placeholder/);
      const real = {
        TENANTS_JSON: JSON.stringify({ tencent: [{ sdkAppId: '1400000123', secretKey: randomBytes(32).toString('hex'), admins: ['administrator'] }] }),
        KAFKA_SASL_PASSWORD: randomBytes(24).toString('hex'),
        REDIS_PASSWORD: randomBytes(24).toString('hex'),
      };
      const config = loadConfig({ ...podEnv(container(d), real), KAFKA_SSL_CA_FILE: caFile });
      expect(config.kafka.ssl).toEqual({ ca: readFileSync(caFile, 'utf8') });
      expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'unread', password: real.KAFKA_SASL_PASSWORD });
    }
  });
});
