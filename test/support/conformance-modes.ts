import type { StoreConformanceOptions } from '../../src/testing/index.js';

/** The lifetime modes every built-in store passes the conformance suite in. */
export const LIFETIME_MODES: readonly [string, StoreConformanceOptions][] = [
  ['fixed lifetime', { lifetime: 3600 }],
  ['rolling', { lifetime: 3600, rolling: true }],
  ['lifetime 0 (browser-session cookie)', { lifetime: 0 }],
];
