import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ENV_KEYS, loadConfig } from '@app/config';
import { DEFAULT_TOPICS } from '@app/contracts';

/** docker-compose.yml cannot run here (no Docker engine): parse it and keep it in step with the config. */
describe('docker-compose.yml', () => {
  const file = readFileSync(join(__dirname, '..', 'docker-compose.yml'), 'utf8');
  const doc = parse(file, { merge: true }) as {
    services: Record<string, { environment?: Record<string, unknown>; healthcheck?: { test: unknown }; deploy?: { replicas?: number }; command?: unknown; depends_on?: Record<string, { condition: string }> }>;
  };

  it('has Kafka (KRaft), topic creation, Redis, two projector replicas and the gateway, all health-checked', () => {
    expect(Object.keys(doc.services).sort()).toEqual(['gateway', 'kafka', 'kafka-topics', 'projector', 'redis']);
    expect(doc.services.kafka!.environment!.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(doc.services.projector!.deploy!.replicas).toBe(2);
    for (const name of ['kafka', 'redis', 'projector', 'gateway']) expect(doc.services[name]!.healthcheck).toBeDefined();
    expect(doc.services.projector!.depends_on!['kafka-topics']!.condition).toBe('service_completed_successfully');
  });

  it('creates every topic the apps use', () => {
    const script = JSON.stringify(doc.services['kafka-topics']!.command);
    for (const topic of Object.values(DEFAULT_TOPICS)) expect(script).toContain(topic);
  });

  it.each(['projector', 'gateway'])('gives %s only variables the config knows, and a valid configuration', (name) => {
    const env = doc.services[name]!.environment!;
    for (const key of Object.keys(env)) expect(ENV_KEYS).toContain(key);
    const asStrings = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
    expect(() => loadConfig(asStrings)).not.toThrow();
  });
});
