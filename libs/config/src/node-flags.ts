/**
 * Node flags the projector is started with (`node --max-semi-space-size=64 dist/apps/projector/src/main.js`:
 * the compose files, `npm run start:projector`, the local runner, the tests and the bench).
 * The projector allocates per event (decoded records, parsed events, write arguments) and holds
 * up to its in-flight bound of them across several scavenges: with V8's default young
 * generation (16 MiB semi-spaces on Node 20) much of that is copied and promoted before it
 * dies. 64 MiB semi-spaces (at most 192 MiB of young generation) cut the projector's CPU per
 * event (docs/performance.md). V8 reads the flag only at start-up, so the process cannot set
 * it for itself.
 */
export const PROJECTOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
