import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
// Nest's internal entry point: read here only to check the copies the library keeps.
import { RESPONSE_PASSTHROUGH_METADATA, ROUTE_ARGS_METADATA, RouteParamtypes, SSE_METADATA } from '@nestjs/common/internal';
import {
  NEST_RESPONSE_PASSTHROUGH_METADATA,
  NEST_ROUTE_ARGS_METADATA,
  NEST_SSE_METADATA,
} from '../../../src/session.constants.js';

describe("Nest metadata the interceptor reads to find routes that answer by themselves", () => {
  it('uses the keys this Nest version writes', () => {
    expect(NEST_ROUTE_ARGS_METADATA).toBe(ROUTE_ARGS_METADATA);
    expect(NEST_RESPONSE_PASSTHROUGH_METADATA).toBe(RESPONSE_PASSTHROUGH_METADATA);
    expect(NEST_SSE_METADATA).toBe(SSE_METADATA);
  });

  it('recognises @Res() and @Next() by their param types', () => {
    expect(RouteParamtypes.RESPONSE).toBe(1);
    expect(RouteParamtypes.NEXT).toBe(2);
  });
});
