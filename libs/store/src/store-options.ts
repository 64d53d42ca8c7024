/** Options every projection store shares (ProjectionStore passes them down). */
export interface StoreOptions {
  /** How long QChat mention bodies and index entries are kept (ms). */
  mentionRetentionMs: number;
  /**
   * GROUP_UNCOUNTED_HORIZON: a group's set of seqs that do not count holds only those above
   * its max seq minus this many (docs/projections.md, "The horizon"). Absent: no horizon,
   * the set keeps every seq (tools and tests that replay small histories exactly).
   */
  groupUncountedHorizon?: number;
}
