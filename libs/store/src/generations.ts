import { generationKeys, type GenerationSource } from './keyspace';
import type { RedisClient } from './redis.factory';
import { BOOKKEEPING_SCRIPTS } from './scripts';
import { callScript, registerScripts } from './write';

/** The generation pointer and the switch fence, as read from Redis. */
export interface GenerationState {
  active: number;
  /** Set while a rebuild switches to `generation` (its fence stands); `token` is the rebuild's. */
  fence?: { generation: number; token: string };
}

/**
 * Projection generations (docs/reliability.md, rebuild): the active generation's pointer and
 * the switch fence of a base prefix, and the rebuild's steps on them.
 *
 * Readers resolve key names through the generation read last (`current()`, a
 * GenerationSource for Keyspace); the projector applies each batch to an explicit
 * generation (`ProjectionStore.forGeneration`) and holds it while a fence stands. Each app
 * watches the pointer in one place, `watch()` (StoreModule starts it): one MGET per
 * interval in the background, so nothing waits for it; a failed read keeps what was read
 * last. `onSwitch` listeners hear of every change of the active generation it sees.
 */
export class Generations implements GenerationSource {
  readonly keys: { active: string; fence: string };
  private state?: GenerationState;
  private timer?: NodeJS.Timeout;
  private reading = false;
  private readonly switchListeners = new Set<(from: number, to: number) => void>();

  /**
   * @param redis the client to read the pointer with
   * @param base REDIS_KEY_PREFIX
   */
  constructor(
    private readonly redis: RedisClient,
    readonly base: string,
  ) {
    this.keys = generationKeys(base);
    registerScripts(redis);
  }

  /** The generation read last (0 before any read). */
  current(): number {
    return this.state?.active ?? 0;
  }

  /** The pointer and the fence as read last; undefined until a read succeeded. */
  get last(): GenerationState | undefined {
    return this.state;
  }

  /** Reads the pointer and the fence (one MGET). `fence` is the generation being switched to. */
  async read(): Promise<GenerationState> {
    const [active, fence] = await this.redis.mget(this.keys.active, this.keys.fence);
    const n = active === null || active === undefined ? 0 : Number(active);
    const state: GenerationState = { active: Number.isSafeInteger(n) && n >= 0 ? n : 0 };
    if (fence) {
      const [gen, token] = fence.split(' ');
      state.fence = { generation: Number(gen), token: token ?? '' };
    }
    this.update(state);
    return state;
  }

  /**
   * Re-reads the pointer and the fence every `intervalMs` (one read at a time) until `stop()`.
   * Resolves after the first read, failed or not (a Redis that is down is the readiness
   * check's concern; the next read tries again).
   */
  async watch(intervalMs: number): Promise<void> {
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.readQuietly(), intervalMs);
    this.timer.unref();
    await this.readQuietly();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Calls `listener` on every change of the active generation seen from now on; returns what removes it. */
  onSwitch(listener: (from: number, to: number) => void): () => void {
    this.switchListeners.add(listener);
    return () => this.switchListeners.delete(listener);
  }

  /**
   * Sets the switch fence for `generation` (rebuild only): while it stands, live projectors
   * hold their batches. Expires after `ttlMs` unless extended. False when a fence stands.
   */
  async setFence(generation: number, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.fence, `${generation} ${token}`, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Extends the fence set with `token`; false when it expired or is not ours. */
  async extendFence(generation: number, token: string, ttlMs: number): Promise<boolean> {
    return (await callScript(this.redis, BOOKKEEPING_SCRIPTS.generationFence, [this.keys.fence], [`${generation} ${token}`, ttlMs])) === 1;
  }

  /** Activates `generation` and lifts the fence, atomically, if the fence is still ours. */
  async flip(generation: number, token: string): Promise<boolean> {
    const ok = (await callScript(this.redis, BOOKKEEPING_SCRIPTS.generationFlip, [this.keys.active, this.keys.fence], [generation, `${generation} ${token}`])) === 1;
    if (ok) this.update({ active: generation });
    return ok;
  }

  /** Lifts the fence set with `token` (a rebuild that gives up). */
  async dropFence(generation: number, token: string): Promise<void> {
    await callScript(this.redis, BOOKKEEPING_SCRIPTS.generationFence, [this.keys.fence], [`${generation} ${token}`, 1]);
  }

  private async readQuietly(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      await this.read();
    } catch {
      // Redis away: keep the generation read last.
    } finally {
      this.reading = false;
    }
  }

  private update(next: GenerationState): void {
    const before = this.state?.active;
    this.state = next;
    if (before === undefined || before === next.active) return;
    for (const listener of this.switchListeners) listener(before, next.active);
  }
}
