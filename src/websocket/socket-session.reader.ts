import type { SessionData } from '../interfaces/session-data.interface.js';
import { RequestSession } from '../session/request-session.js';
import type { SessionRuntime } from '../session/session-runtime.js';
import { handshakeOf, readOnlyView } from './socket-session.js';

/**
 * The session named by a WebSocket client's handshake cookie, read afresh for every message
 * (so a session destroyed over HTTP is gone on the next message), and read-only: a gateway
 * cannot send a cookie, so a change could never be saved.
 */
export async function readSocketSession(runtime: SessionRuntime, client: object): Promise<Readonly<SessionData>> {
  const handshake = handshakeOf(client);
  const session = new RequestSession(runtime);
  if (!runtime.isSkipped(handshake)) {
    const verified = runtime.cookie.read(handshake, true);
    if (verified) await session.loadRecord(verified.id, verified.secretIndex);
  }
  return readOnlyView(session.data);
}
