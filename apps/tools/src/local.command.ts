import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CONSUMED_TOPIC_ROLES, DEFAULT_TOPICS } from '@app/contracts';
import { PROJECTOR_NODE_FLAGS, loadConfig } from '@app/config';
import { EventProducer, createKafka } from '@app/kafka';
import { MockBroker, ROOT, RedisServer, reapOnExit } from './local-services';
import { produceLines } from './produce.command';
import { SAMPLE, SAMPLE_ALICE_UNREAD, sampleEvents } from './sample-data';
import { tencentUserSig } from './usersig';

/**
 * `npm run start:local` (`unread local`): the whole service on one machine with the embedded default — the
 * mock broker and a private redis-server, a projector and a gateway as child processes
 * (as in production), sample data, and ready-to-paste curl commands. Ctrl-C stops all.
 */
export async function runLocal(env: NodeJS.ProcessEnv): Promise<void> {
  const port = env.HTTP_PORT ?? '8080';
  const redis = await RedisServer.start();
  const topics = Object.fromEntries(
    [...CONSUMED_TOPIC_ROLES.map((r) => DEFAULT_TOPICS[r]), DEFAULT_TOPICS.deadLetter, DEFAULT_TOPICS.unreadChanged].map((t) => [t, 6]),
  );
  const broker = await MockBroker.start({ brokers: 1, topics });
  const secretKey = randomBytes(16).toString('hex');
  const appSecret = randomBytes(12).toString('hex');
  // the summary API's bearer key, for both sample tenants (without one the summary API cannot be tried)
  const apiKey = randomBytes(16).toString('hex');
  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    KAFKA_BROKERS: broker.bootstrap,
    REDIS_URL: redis.url,
    HTTP_PORT: port,
    HTTP_HOST: '127.0.0.1',
    TENANTS_JSON: JSON.stringify({
      tencent: [{ sdkAppId: SAMPLE.sdkAppId, secretKey, admins: [SAMPLE.admin], apiKey }],
      netease: [{ appKey: SAMPLE.appKey, appSecret, apiKey }],
    }),
  };
  const config = loadConfig(childEnv); // fails here, with every problem listed, if env is off
  const children: ChildProcess[] = [];
  const stopAll = async () => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await broker.stop();
    await redis.stop();
  };
  const start = (name: string) => {
    const flags = name === 'projector' ? PROJECTOR_NODE_FLAGS : [];
    const child = reapOnExit(
      spawn(process.execPath, [...flags, join(ROOT, 'dist', 'apps', name, 'src', 'main.js')], {
        env: childEnv,
        stdio: ['ignore', 'inherit', 'inherit'],
      }),
    );
    child.once('exit', (code, signal) => {
      if (!stopping) {
        process.stderr.write(`local: ${name} exited (${code ?? signal}); stopping\n`);
        void stopAll().then(() => process.exit(1));
      }
    });
    children.push(child);
  };
  let stopping = false;
  process.on('SIGINT', () => {
    stopping = true;
    void stopAll().then(() => process.exit(0));
  });
  process.on('SIGTERM', () => {
    stopping = true;
    void stopAll().then(() => process.exit(0));
  });

  start('projector');
  start('gateway');

  // The sample goes through `unread produce` (validation, topics, partition keys) as JSON lines.
  const kafka = createKafka(config.kafka, 'local-sample');
  const producer = new EventProducer(kafka, config.kafka.topics);
  const lines = sampleEvents(Date.now()).map((e) => `${JSON.stringify(e)}\n`);
  const report = await produceLines(Readable.from(lines), producer, {
    topics: config.kafka.topics,
    onInvalid: (line, reason) => process.stderr.write(`local: sample line ${line}: ${reason}\n`),
  });
  await producer.disconnect();
  if (report.invalid > 0) throw new Error('the sample data has invalid events');

  const base = `http://127.0.0.1:${port}`;
  await waitUntilReady(base);
  const sig = tencentUserSig(SAMPLE.sdkAppId, secretKey, SAMPLE.admin, 7 * 24 * 3600);
  const q = `sdkappid=${SAMPLE.sdkAppId}&identifier=${SAMPLE.admin}&usersig=${sig}&random=$RANDOM&contenttype=json`;
  // The projector joins its consumer group and applies the sample in a few seconds: print
  // the commands only once a first query returns the sample's numbers.
  await waitUntilApplied(`${base}/v4/openim/get_c2c_unread_msg_num?${q.replace('$RANDOM', '1')}`, SAMPLE_ALICE_UNREAD);
  process.stdout.write(`
unread is running (Ctrl-C stops everything):
  gateway     ${base}   (health: ${base}/health/ready)
  gateway admin http://127.0.0.1:${config.http.admin.port}   (/metrics, /docs, /openapi.json, /asyncapi.json)
  broker      ${broker.bootstrap}   (librdkafka mock cluster; topics ${Object.keys(topics).join(', ')})
  redis       ${redis.url}
  projector metrics http://127.0.0.1:${config.projectorMetricsPort}/metrics   (readiness: /ready)

Sample data: accounts ${SAMPLE.accounts.join(', ')}; alice has unread one-to-one messages from bob and carol
(one of bob's recalled, dave's notice sent with noUnread), group ${SAMPLE.groupId} (one message recalled),
group ${SAMPLE.mutedGroupId} that she muted (Discard: in the vendor counts, not in the badge), and QChat
channel ${SAMPLE.serverId}/${SAMPLE.channelId} with mentions of alice.

curl -s -X POST "${base}/v4/openim/get_c2c_unread_msg_num?${q}" -d '{"To_Account":"alice"}'
curl -s -X POST "${base}/v4/openim/get_c2c_unread_msg_num?${q}" -d '{"To_Account":"alice","Peer_Account":["bob","carol","nobody"]}'
curl -s -X POST "${base}/v4/group_open_http_svc/get_joined_group_list?${q}" -d '{"Member_Account":"alice","ResponseFilter":{"SelfInfoFilter":["MsgFlag","UnreadMsgNum"]}}'
curl -s "${base}/v1/apps/${SAMPLE.sdkAppId}/accounts/alice/unread" -H "Authorization: Bearer ${apiKey}"
curl -s -X POST "${base}/v1/apps/${SAMPLE.sdkAppId}/unread" -H "Authorization: Bearer ${apiKey}" -d '{"accounts":["alice","bob","nobody"]}'
NONCE=$(date +%s%N); CURTIME=$(date +%s); CHECKSUM=$(printf '%s' "${appSecret}$NONCE$CURTIME" | sha1sum | cut -d' ' -f1); \\
curl -s -X POST "${base}/nimserver/qchat/queryChannelUnReadMentionedMsgPage.action" -H "AppKey: ${SAMPLE.appKey}" -H "Nonce: $NONCE" -H "CurTime: $CURTIME" -H "CheckSum: $CHECKSUM" -H 'Content-Type: application/x-www-form-urlencoded;charset=utf-8' -d 'accid=alice&serverId=${SAMPLE.serverId}&channelId=${SAMPLE.channelId}&limit=10'

`);
}

async function waitUntilApplied(url: string, expected: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(url, { method: 'POST', body: JSON.stringify({ To_Account: 'alice' }) });
      const body = (await res.json()) as { AllC2CUnreadMsgNum?: number };
      if (body.AllC2CUnreadMsgNum === expected) return;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error('the sample data did not become visible within 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitUntilReady(base: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`${base}/health/ready`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the gateway at ${base} did not become ready`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
