import type { Harness } from './harness';
import { drainedGroup } from './projector-process';

/**
 * Waits until the harness's projector group has committed every record produced so far to
 * the four consumed topics. The projector commits a batch only after Redis acknowledged its
 * writes, so afterwards every event sent before the call is applied: a barrier that lets a
 * test assert "never counts" exactly, instead of catching a transient value.
 */
export function drained(h: Harness, timeoutMs = 45_000): Promise<void> {
  return drainedGroup(h.kafka, h.config, h.config.kafka.consumerGroup, timeoutMs);
}
