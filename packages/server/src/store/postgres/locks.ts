/** Advisory lock keys (first int of the two-int form: "switchyard"). */
export const LOCK_SPACE = 0x5377_7964;
export const MIGRATION_LOCK = 1;
/** Held by every commit that writes a config version, until it commits. */
export const CONFIG_LOCK = 2;
// 3 was the ingestion lock of summaries kept at ingestion: never reuse it (migration 16 refuses
// summary writes by a transaction holding it, an instance older than migration 14).
/** Held by a commit that must leave an ADMIN (demotions and deletions of users), until it commits. */
export const USERS_LOCK = 4;
/** Held by the leader of the background jobs, on its control connection. */
export const LEADER_LOCK = 5;
/** Held by the transaction of each aggregation slice (and by a summaries rebuild), until it commits. */
export const AGGREGATOR_LOCK = 6;
