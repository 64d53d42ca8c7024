/**
 * The default of C2C_UNREAD_CAP (libs/config): unread ids tracked per one-to-one
 * conversation at most (docs/projections.md, "The cap").
 */
export const DEFAULT_C2C_UNREAD_CAP = 1000;

/**
 * The default of GROUP_UNCOUNTED_HORIZON (libs/config): a group keeps its seqs that do not
 * count only above its max seq minus this many (docs/projections.md, "The horizon").
 */
export const DEFAULT_GROUP_UNCOUNTED_HORIZON = 1_000;

/** Options every projection store shares (ProjectionStore passes them down). */
export interface StoreOptions {
  /** How long QChat mention bodies and index entries are kept (ms). */
  mentionRetentionMs: number;
  /**
   * Unread ids tracked per one-to-one conversation at most (C2C_UNREAD_CAP; default
   * DEFAULT_C2C_UNREAD_CAP): counts are exact below it. Every projector and rebuild of one
   * deployment must use the same value.
   */
  c2cUnreadCap?: number;
  /**
   * The horizon of the groups' sets of seqs that do not count (GROUP_UNCOUNTED_HORIZON, an
   * integer >= 1; default DEFAULT_GROUP_UNCOUNTED_HORIZON): a group's count is exact for
   * every member whose read seq is within this many seqs of the group's max. Every
   * projector and rebuild of one deployment must use the same value.
   */
  groupUncountedHorizon?: number;
}

/** A deployment's store options from its configuration (loadConfig's fields of the same names): what every store of the deployment is built with. */
export function storeOptionsOf(config: { mentionRetentionMs: number; c2cUnreadCap: number; groupUncountedHorizon: number }): StoreOptions {
  return { mentionRetentionMs: config.mentionRetentionMs, c2cUnreadCap: config.c2cUnreadCap, groupUncountedHorizon: config.groupUncountedHorizon };
}
