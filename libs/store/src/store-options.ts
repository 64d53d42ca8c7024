/**
 * The default of C2C_UNREAD_CAP (libs/config): unread ids tracked per one-to-one
 * conversation at most (docs/projections.md, "The cap").
 */
export const DEFAULT_C2C_UNREAD_CAP = 1000;

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
}
