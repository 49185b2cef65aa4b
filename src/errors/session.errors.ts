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

/**
 * The session was asked for where it can never be saved: an RPC (microservice) handler or a
 * context the module does not know. No cookie arrives with such a message and none can go back,
 * so the module refuses instead of handing out a session whose changes would be lost silently.
 */
export class SessionUnavailableError extends Error {
  override readonly name = 'SessionUnavailableError';
  constructor(
    /** Nest's context type (`'rpc'`, `'graphql-ws'`, or a custom transport's). */
    readonly contextType: string,
    detail = 'no cookie arrives with a message and none can be sent back, so a change could never be saved. ' +
      'Use the session over HTTP (controllers, GraphQL queries and mutations), and pass what a ' +
      'microservice needs (a user ID, say) in its message',
  ) {
    super(`The session is not available in a "${contextType}" context: ${detail}.`);
  }
}

/**
 * A GraphQL resolver used the session, but the per-request commit is not wired: without it the
 * change could not be saved before the response is written. The message names the one line to add.
 */
export class SessionGraphqlSetupError extends Error {
  override readonly name = 'SessionGraphqlSetupError';
  constructor(reason: string) {
    super(
      `The session cannot be used in this GraphQL resolver: ${reason}. With Apollo, add ` +
        '`plugins: [sessionApolloPlugin()]` to GraphQLModule.forRoot(); with Mercurius, add ' +
        '`additionalRouteOptions: sessionMercuriusRouteOptions()` (both from @sessionkit/nest/graphql).',
    );
  }
}
