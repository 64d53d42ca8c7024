import { LIMITS, size, type MeasuredCosts } from './capacity';

const costs: MeasuredCosts = {
  projectorMicros: { mixed: 20, c2c: 12 },
  redisMicros: { 'c2c-msg': 5, 'group-msg': 8, mention: 40 },
  bytes: { c2cUnread: 75, mention: 900, groupMember: 40 },
  source: 'fixture',
};

describe('sizing model', () => {
  it('adds CPU by event kind and memory by element, and picks the resource that runs out first', () => {
    const s = size(
      { name: 'x', accounts: 1_000_000, rates: { 'c2c-msg': 50_000, 'group-msg': 25_000, mention: 1_000 }, unreadPerAccount: 10, groupsPerAccount: 10, mentionRetentionDays: 1 },
      costs,
    );
    expect(s.eventsPerSecond).toBe(76_000);
    expect(s.projectorCores).toBeCloseTo((76_000 * 20) / 1e6, 9); // 1.52
    expect(s.projectorReplicas).toBe(Math.ceil(1.52 / LIMITS.projectorUtilisation));
    expect(s.redisCores).toBeCloseTo((50_000 * 5 + 25_000 * 8 + 1_000 * 40) / 1e6, 9); // 0.49
    // 1M × 10 × 75 B + 1M × 10 × 40 B + 86.4M mentions × 900 B
    expect(s.memoryGB).toBeCloseTo((750e6 + 400e6 + 86_400_000 * 900) / 1e9, 6);
    expect(s.shardsForMemory).toBe(Math.ceil(s.memoryGB / LIMITS.shardMemoryGB));
    expect(s.redisShards).toBe(Math.max(s.shardsForCpu, s.shardsForMemory));
    expect(s.firstLimit).toBe('Redis memory');
    expect(s.partitionsPerTopic).toBe(Math.max(4, s.projectorReplicas * LIMITS.partitionsPerReplica));
  });

  it('refuses a load with an event kind the benchmark did not measure', () => {
    expect(() => size({ name: 'x', accounts: 1, rates: { 'channel-ack': 1 }, unreadPerAccount: 0, groupsPerAccount: 0, mentionRetentionDays: 1 }, costs)).toThrow(
      /no Redis cost measured for channel-ack/,
    );
  });
});
