import { describe, it } from '@jest/globals';
import { CookieStore } from '../../../src/index.js';
import { storeConformanceCases } from '../../../src/testing/index.js';

describe('CookieStore passes the store conformance suite (clientSide)', () => {
  for (const c of storeConformanceCases(() => new CookieStore(), { clientSide: true })) it(c.name, c.run);
});

