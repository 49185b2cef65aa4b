import { InternalServerErrorException, ServiceUnavailableException } from '@nestjs/common';

/** A `SessionModule` option is invalid. Thrown at startup, never at request time. */
export class SessionOptionsError extends Error {
  override readonly name = 'SessionOptionsError';
  constructor(message: string) {
    super(`SessionModule: ${message}`);
  }
}

/** `SessionService.get()` was called before the session was loaded for this request. */
export class SessionNotLoadedError extends Error {
  override readonly name = 'SessionNotLoadedError';
  constructor() {
    super(
      'The session is not loaded for this request. Load it with a @Session() parameter, ' +
        '@UseSessionAutoload() on the controller or route, the `autoload` option, ' +
        'or `await sessionService.load(req)` (in a guard, for example) before calling get().',
    );
  }
}

/** The store failed to read, write or remove a session. Answers 503. */
export class SessionStoreUnavailableError extends ServiceUnavailableException {
  constructor(operation: string, cause?: unknown) {
    super(`Session store unavailable: the ${operation} failed. Please retry shortly.`, { cause });
    this.name = 'SessionStoreUnavailableError';
  }
}

/** The session cookie would exceed what browsers keep; it is never sent. Answers 500. */
export class SessionCookieTooLargeError extends InternalServerErrorException {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      `Session cookie is ${size} bytes, over the ${limit}-byte limit browsers keep; it was not sent. ` +
        'Store less data in the session or use a server-side store.',
    );
    this.name = 'SessionCookieTooLargeError';
  }
}

/** An encryptor or store was constructed with a key of the wrong size or format. */
export class InvalidKeyError extends Error {
  override readonly name = 'InvalidKeyError';
}

/** Session data that the serializer cannot represent (names the key). */
export class SessionSerializationError extends Error {
  override readonly name = 'SessionSerializationError';
}

/** A WebSocket gateway tried to change the session; gateways read it, HTTP changes it. */
export class SessionReadOnlyError extends Error {
  override readonly name = 'SessionReadOnlyError';
  constructor(key: string) {
    super(
      `The session is read-only in WebSocket gateways (tried to change "${key}"). ` +
        'Change it over HTTP, where the cookie can be updated.',
    );
  }
}

/** A WebSocket client whose handshake the module cannot see. */
export class SessionSocketNotBoundError extends Error {
  override readonly name = 'SessionSocketNotBoundError';
  constructor() {
    super(
      'No handshake request is known for this WebSocket client. With @nestjs/platform-ws, call ' +
        '`sessionService.bindSocket(client, request)` in your gateway\'s handleConnection(client, request). ' +
        '(socket.io clients work without it.)',
    );
  }
}
