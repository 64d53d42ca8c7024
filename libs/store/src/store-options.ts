/** Options every projection store shares (ProjectionStore passes them down). */
export interface StoreOptions {
  /** How long QChat mention bodies and index entries are kept (ms). */
  mentionRetentionMs: number;
}
