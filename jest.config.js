// Jest 30 in native ESM mode: the @nestjs/* packages are ESM-only (see NEST-NOTES.md).
const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

export default {
  rootDir: '.',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // Mercurius requires @fastify/static, which requires the ESM-only content-disposition 3: Node
    // 20.19+ can require() it, Jest's own module loader cannot (before Node 24.9). Inside Jest only,
    // it gets the CommonJS 2.x that Express installs (same `create()` API).
    '^content-disposition$': '<rootDir>/node_modules/content-disposition/dist/index.js',
  },
  transform: { '^.+\\.ts$': ['@swc/jest', swcOptions] },
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  testTimeout: 30000,
};
