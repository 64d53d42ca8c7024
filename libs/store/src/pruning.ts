/**
 * What the projections pruned, by entry (the `entry` label of the projector's
 * unread_projection_pruned_total, docs/operations.md): `c2c_unread_id`, unread ids trimmed at
 * a one-to-one conversation's cap; `c2c_tombstone`, one-to-one recall tombstones dropped;
 * `group_uncounted_seq`, a group's seqs that do not count removed at the horizon.
 */
export const PRUNED_ENTRIES = ['c2c_unread_id', 'c2c_tombstone', 'group_uncounted_seq'] as const;
export type PrunedEntry = (typeof PRUNED_ENTRIES)[number];

/**
 * Running totals of what the writes of a store (and of its generations' stores) pruned, as
 * their replies said (ProjectionStore): the projector's metrics read them when scraped.
 */
export class PruningTally {
  readonly pruned: Record<PrunedEntry, number> = { c2c_unread_id: 0, c2c_tombstone: 0, group_uncounted_seq: 0 };
  /** One-to-one conversation writes that trimmed at the cap. */
  c2cCapped = 0;
}
