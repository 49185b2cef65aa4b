export { runStoreConformance, storeConformanceCases } from './store-conformance.js';
export type { StoreConformanceCase, StoreConformanceOptions } from './store-conformance.js';
export { readSessionData, type ReadSessionDataOptions } from './read-session-data.js';
