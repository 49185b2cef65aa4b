import { describe, it } from '@jest/globals';
import { CookieStore } from '../../../src/index.js';
import { storeConformanceCases } from '../../../src/testing/index.js';
import { LIFETIME_MODES } from '../../support/conformance-modes.js';

describe.each(LIFETIME_MODES)('CookieStore passes the store conformance suite (clientSide, %s)', (_mode, options) => {
  for (const c of storeConformanceCases(() => new CookieStore(), { ...options, clientSide: true })) it(c.name, c.run);
});

