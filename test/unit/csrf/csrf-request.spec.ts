import { describe, expect, it } from '@jest/globals';
import { submittedCsrfToken } from '../../../src/csrf/csrf-request.js';

const places = { header: 'x-csrf-token', field: '_csrf' };

describe('submittedCsrfToken', () => {
  it('reads the header (Node lower-cases header names)', () => {
    expect(submittedCsrfToken({ headers: { 'x-csrf-token': 'h' } }, places)).toBe('h');
  });

  it('reads the body field of a parsed form or JSON body, including a null-prototype one (Fastify)', () => {
    expect(submittedCsrfToken({ headers: {}, body: { _csrf: 'f' } }, places)).toBe('f');
    const bare = Object.assign(Object.create(null) as object, { _csrf: 'g' });
    expect(submittedCsrfToken({ headers: {}, body: bare }, places)).toBe('g');
  });

  it('prefers the header to the field', () => {
    expect(submittedCsrfToken({ headers: { 'x-csrf-token': 'h' }, body: { _csrf: 'f' } }, places)).toBe('h');
  });

  it('treats empty values as missing (an empty header falls back to the field)', () => {
    expect(submittedCsrfToken({ headers: { 'x-csrf-token': '' }, body: { _csrf: 'f' } }, places)).toBe('f');
    expect(submittedCsrfToken({ headers: {}, body: { _csrf: '' } }, places)).toBeUndefined();
  });

  it('returns undefined without a header or an own body field', () => {
    expect(submittedCsrfToken({ headers: {} }, places)).toBeUndefined();
    expect(submittedCsrfToken({}, places)).toBeUndefined();
    expect(submittedCsrfToken({ headers: {}, body: null }, places)).toBeUndefined();
    expect(submittedCsrfToken({ headers: {}, body: 'text body with _csrf' }, places)).toBeUndefined();
    expect(submittedCsrfToken({ headers: {}, body: Buffer.from('_csrf=x') }, places)).toBeUndefined();
    // Inherited properties never count.
    const inherited = Object.create({ _csrf: 'from the prototype' }) as object;
    expect(submittedCsrfToken({ headers: {}, body: inherited }, places)).toBeUndefined();
    expect(submittedCsrfToken({ headers: {}, body: {} }, { header: 'x', field: 'constructor' })).toBeUndefined();
  });

  it('passes through whatever the client sent, for verification to refuse', () => {
    expect(submittedCsrfToken({ headers: {}, body: { _csrf: ['a', 'b'] } }, places)).toEqual(['a', 'b']);
    expect(submittedCsrfToken({ headers: {}, body: { _csrf: 7 } }, places)).toBe(7);
  });

  it('uses the configured names', () => {
    const custom = { header: 'x-xsrf-token', field: 'authenticity_token' };
    expect(submittedCsrfToken({ headers: { 'x-xsrf-token': 'h' } }, custom)).toBe('h');
    expect(submittedCsrfToken({ headers: { 'x-csrf-token': 'h' }, body: { _csrf: 'f' } }, custom)).toBeUndefined();
    expect(submittedCsrfToken({ headers: {}, body: { authenticity_token: 'f' } }, custom)).toBe('f');
  });
});
