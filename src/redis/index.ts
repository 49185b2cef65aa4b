export { RedisStore, RedisStoreTimeoutError } from './redis.store.js';
export type { RedisStoreOperation, RedisStoreOptions } from './redis.store.js';
