export { PostgresStore } from './postgres.store.js';
export { PostgresStoreOptionsError, PostgresStoreSchemaError, PostgresStoreTimeoutError } from './postgres.errors.js';
export type { PostgresStoreOperation } from './postgres.errors.js';
export type { PostgresStoreOptions } from './postgres.options.js';
