import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { MemoryStore, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { PLATFORMS, RecordingLogger, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { listen, rawGet, sign, stored } from '../commit-rules/fixtures.js';

/** A secret the app does not know (long enough to be a real one). */
const UNKNOWN_SECRET = 'a-secret-this-app-has-never-been-configured-with';

@Controller('bad')
class BadCookieController {
  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  /** Reports what the session held on arrival, then writes to it so a cookie is issued. */
  @Get('visit') visit(@Session() session: SessionData) {
    const seen = { ...session };
    session.visited = true;
    return { seen };
  }
  @Get('peek') peek(@Session() session: SessionData) {
    return { seen: { ...session } };
  }
  @Get('lazy') lazy() {
    return { ok: true };
  }
}

function fixture() {
  const store = new MemoryStore();
  const logger = new RecordingLogger();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger })],
    controllers: [BadCookieController],
  })
  class BadCookieAppModule {}
  return { store, logger, BadCookieAppModule };
}

const newId = () => randomBytes(24).toString('base64url');
const sigOf = (value: string) => value.slice(value.lastIndexOf('.') + 1);

interface Real {
  id: string;
  value: string;
}
interface Case {
  /** The Cookie request header. */
  header: string;
  /** IDs the client tried to make us use. */
  clientIds: string[];
  /** What the warn log must mention. */
  reason: RegExp;
}

const SIGNATURE = /signature|secret/i;
const MALFORMED = /malformed/i;
const TOO_LONG = /too long|too large|size|length/i;
const UNKNOWN = /unknown|not found|removed/i;

/** Each builder gets a real, stored session to forge from. */
const cases: Record<string, (real: Real) => Case> = {
  'tampered signature (one character changed)': (real) => {
    const sig = sigOf(real.value);
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    return { header: `sid=${real.id}.${flipped}`, clientIds: [real.id], reason: SIGNATURE };
  },
  'a valid signature moved to another id': (real) => {
    const id = newId();
    return { header: `sid=${id}.${sigOf(real.value)}`, clientIds: [id], reason: SIGNATURE };
  },
  'an id without any signature': () => {
    const id = newId();
    return { header: `sid=${id}`, clientIds: [id], reason: MALFORMED };
  },
  'a truncated signature': () => {
    const id = newId();
    return { header: `sid=${sign(id).slice(0, -10)}`, clientIds: [id], reason: MALFORMED };
  },
  'garbage characters': () => ({ header: 'sid=%%%$$$!!!', clientIds: [], reason: MALFORMED }),
  'an empty value': () => ({ header: 'sid=', clientIds: [], reason: MALFORMED }),
  'an 8 KB value': () => ({ header: `sid=${'A'.repeat(8192)}`, clientIds: ['A'.repeat(8192)], reason: TOO_LONG }),
  'an 8 KB id with a well-formed signature': () => {
    const id = 'B'.repeat(8150);
    return { header: `sid=${sign(id)}`, clientIds: [id], reason: TOO_LONG };
  },
  'a new id signed with an unknown secret': () => {
    const id = newId();
    return { header: `sid=${sign(id, UNKNOWN_SECRET)}`, clientIds: [id], reason: SIGNATURE };
  },
  "the real session's id signed with an unknown secret": (real) => ({
    header: `sid=${sign(real.id, UNKNOWN_SECRET)}`,
    clientIds: [real.id],
    reason: SIGNATURE,
  }),
  'a correctly signed id the store does not know': () => {
    const id = newId();
    return { header: `sid=${sign(id)}`, clientIds: [id], reason: UNKNOWN };
  },
  'a ";" splitting the value': () => {
    const id = newId();
    const sig = sigOf(sign(id));
    return { header: `sid=${id};evil=1.${sig}`, clientIds: [id], reason: MALFORMED };
  },
  'encoded CR/LF with an injected header': () => {
    const id = newId();
    return { header: `sid=${id}%0D%0ASet-Cookie:%20evil=1.${sigOf(sign(id))}`, clientIds: [id], reason: MALFORMED };
  },
  'a quoted signed id': () => {
    const id = newId();
    return { header: `sid="${sign(id)}"`, clientIds: [id], reason: MALFORMED };
  },
  'quotes inside the value': () => {
    const id = `${newId()}'or'1'='1`;
    return { header: `sid=${id}.${sigOf(sign(id))}`, clientIds: [id], reason: MALFORMED };
  },
  'a path-traversal id': () => ({ header: `sid=../../etc/passwd.${sigOf(sign('../../etc/passwd'))}`, clientIds: ['../../etc/passwd'], reason: MALFORMED }),
  'a latin-1 character in the id': () => {
    const id = `${newId()}\u00e9`;
    return { header: `sid=${id}.${sigOf(sign(id))}`, clientIds: [id], reason: MALFORMED };
  },
  '50 duplicate sid cookies, each a correctly signed unknown id': () => {
    const ids = Array.from({ length: 50 }, newId);
    return { header: ids.map((id) => `sid=${sign(id)}`).join('; '), clientIds: ids, reason: UNKNOWN };
  },
  '50 duplicate sid cookies, the first one malformed': () => {
    const ids = Array.from({ length: 49 }, newId);
    return { header: ['sid=nonsense', ...ids.map((id) => `sid=${sign(id)}`)].join('; '), clientIds: ids, reason: MALFORMED };
  },
};

describe.each(PLATFORMS)('bad input: rejected session cookies (%s)', (platform) => {
  const { store, logger, BadCookieAppModule } = fixture();
  let app: INestApplication;
  let real: Real;
  beforeAll(async () => {
    app = await startApp(BadCookieAppModule, platform);
    const seed = await http(app).get('/bad/seed').expect(200);
    const cookie = sessionCookie(seed)!;
    real = { id: idOf(cookie)!, value: cookie.slice('sid='.length) };
  });
  afterAll(async () => {
    app.getHttpServer().closeAllConnections?.();
    await app.close();
    store.close();
  });
  beforeEach(() => {
    logger.calls.length = 0;
  });

  /** No log line may carry a raw session ID (the client's or ours) or a secret. */
  function expectCleanLogs(ids: string[]) {
    for (const message of logger.messages()) {
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain(UNKNOWN_SECRET);
      for (const id of ids) if (id.length >= 8) expect(message).not.toContain(id);
    }
  }

  it.each(Object.keys(cases))('%s: 2xx, a fresh empty session under a new id, reason logged', async (name) => {
    const { header, clientIds, reason } = cases[name](real);
    const sizeBefore = store.size;

    const res = await http(app).get('/bad/visit').set('Cookie', header).expect(200);

    // A fresh, empty session: none of the real session's data leaks in.
    expect(res.body).toEqual({ seen: {} });
    const issued = sessionCookie(res);
    expect(issued).toBeDefined();
    const issuedId = idOf(issued)!;
    // The client's ID is never adopted: the new cookie carries another id, and the store
    // never holds a record under a forged id.
    for (const id of clientIds) expect(issuedId).not.toBe(id);
    for (const id of clientIds) if (id !== real.id) expect(await stored(store, id)).toBeNull();
    expect(await stored(store, issuedId)).toEqual({ visited: true });
    expect(store.size).toBe(sizeBefore + 1);
    // The real session is untouched by a forgery of its cookie.
    expect(await stored(store, real.id)).toEqual({ user: 'ada' });
    // No header was injected.
    expect(setCookies(res).filter((c) => !c.startsWith('sid='))).toEqual([]);

    const warnings = logger.messages('warn');
    expect(warnings.filter((m) => reason.test(m))).toHaveLength(1);
    expectCleanLogs([...clientIds, issuedId, real.id]);
  });

  it('raw UTF-8 bytes in the cookie: 2xx, fresh session, reason logged', async () => {
    const port = await listen(app);
    const id = `${newId()}\u2713\u00fc`;
    const header = Buffer.concat([Buffer.from('Cookie: sid=', 'latin1'), Buffer.from(id, 'utf8'), Buffer.from(`.${sigOf(sign(id))}`, 'latin1')]);
    const res = await rawGet(port, '/bad/visit', header);
    expect(res.status).toBe(200);
    expect(res.text).toContain('{"seen":{}}');
    const sid = res.setCookies.filter((c) => c.startsWith('sid='));
    expect(sid).toHaveLength(1);
    expect(idOf(sid[0].split(';')[0])).not.toContain(id.slice(0, 32));
    expect(logger.messages('warn').filter((m) => MALFORMED.test(m))).toHaveLength(1);
    expectCleanLogs([id.slice(0, 32)]);
  });

  it('a rejected cookie on a request that does not use the session: 2xx, no cookie, no work', async () => {
    const res = await http(app).get('/bad/lazy').set('Cookie', 'sid=%%%garbage').expect(200, { ok: true });
    expect(setCookies(res)).toEqual([]);
    expect(logger.calls).toEqual([]);
  });

  it('a rejected cookie on a read-only request: 2xx, empty session, nothing written, no cookie', async () => {
    const sizeBefore = store.size;
    const id = newId();
    const res = await http(app).get('/bad/peek').set('Cookie', `sid=${sign(id)}`).expect(200, { seen: {} });
    expect(setCookies(res)).toEqual([]);
    expect(store.size).toBe(sizeBefore);
    expect(await stored(store, id)).toBeNull();
    expect(logger.messages('warn').filter((m) => UNKNOWN.test(m))).toHaveLength(1);
    expectCleanLogs([id]);
  });
});
