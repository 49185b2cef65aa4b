/**
 * With an encryptor, nothing of the user's data is readable in the store: neither the values
 * nor the top-level key names of the per-key layout (SPEC §11.7). `readSessionData` still
 * decodes the record, and a secret rotation moves the names over without losing a key.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { MemoryStore, Session, SessionModule, type Encryptor, type SessionData } from '../../../src/index.js';
import { decodeFieldRecord } from '../../../src/records/field-record.js';
import { readSessionData } from '../../../src/testing/index.js';
import { OLD_SECRET, PLATFORMS, SECRET, http, idOf, sessionCookie, startApp } from '../../support/session-app.js';
import { AES_GCM, FERNET } from './encryption-support.js';

@Controller()
class AdminController {
  @Get('elevate') elevate(@Session() session: SessionData) {
    session.isAdmin = true;
    session.impersonatedBy = 'root-operator';
    return { ok: true };
  }
  @Get('touch-one') touchOne(@Session() session: SessionData) {
    session.impersonatedBy = 'second-operator';
    return { ...session };
  }
  @Get('drop') drop(@Session() session: SessionData) {
    delete session.impersonatedBy;
    return { ...session };
  }
  @Get('peek') peek(@Session() session: SessionData) {
    return { ...session };
  }
}

function appWith(store: MemoryStore, encryptor: Encryptor | undefined, secret: string | string[]) {
  @Module({
    imports: [SessionModule.forRoot({ secret, store, encryptor, logger: false, cookie: { secure: false } })],
    controllers: [AdminController],
  })
  class FixtureModule {}
  return FixtureModule;
}

async function storedFields(store: MemoryStore, id: string): Promise<string[]> {
  const fields = decodeFieldRecord(await store.read(id));
  if (!fields) throw new Error('not a field record');
  return [...fields.keys()];
}

const rawText = async (store: MemoryStore, id: string) => Buffer.from((await store.read(id))!).toString('latin1');

describe.each(PLATFORMS)('opaque field names with an encryptor (%s)', (platform) => {
  describe.each([AES_GCM, FERNET])('$name', (scheme) => {
    const encryptor = scheme.make([scheme.newKey()]);
    const store = new MemoryStore();
    let app: INestApplication;
    let rotated: INestApplication;
    beforeAll(async () => {
      app = await startApp(appWith(store, encryptor, [OLD_SECRET]), platform);
      rotated = await startApp(appWith(store, encryptor, [SECRET, OLD_SECRET]), platform);
    });
    afterAll(async () => {
      await app.close();
      await rotated.close();
    });

    it('stores neither key names nor values in a readable form; readSessionData decodes it', async () => {
      const cookie = sessionCookie(await http(app).get('/elevate').expect(200))!;
      const id = idOf(cookie)!;
      const raw = await rawText(store, id);
      for (const word of ['isAdmin', 'impersonatedBy', 'root-operator', 'true']) expect(raw).not.toContain(word);
      for (const field of await storedFields(store, id)) expect(field).not.toMatch(/isAdmin|impersonatedBy/);
      expect(await readSessionData(store, id, { encryptor })).toEqual({ isAdmin: true, impersonatedBy: 'root-operator' });
      // Still per-key: changing one key rewrites one field, removing one removes it.
      const before = await storedFields(store, id);
      await http(app).get('/touch-one').set('Cookie', cookie).expect(200, { isAdmin: true, impersonatedBy: 'second-operator' });
      expect((await storedFields(store, id)).sort()).toEqual(before.sort());
      await http(app).get('/drop').set('Cookie', cookie).expect(200, { isAdmin: true });
      expect(await storedFields(store, id)).toHaveLength(before.length - 1);
      expect(await readSessionData(store, id, { encryptor })).toEqual({ isAdmin: true });
    });

    it('after a secret rotation, the next save moves every key to the new names and leaves no old name behind', async () => {
      const cookie = sessionCookie(await http(app).get('/elevate').expect(200))!;
      const id = idOf(cookie)!;
      const oldNames = await storedFields(store, id);
      // A read-only request under the new secret changes nothing in the store.
      await http(rotated).get('/peek').set('Cookie', cookie).expect(200, { isAdmin: true, impersonatedBy: 'root-operator' });
      expect(await storedFields(store, id)).toEqual(oldNames);
      // A change to one key rewrites them all under the new names.
      const res = await http(rotated).get('/touch-one').set('Cookie', cookie).expect(200, { isAdmin: true, impersonatedBy: 'second-operator' });
      const next = sessionCookie(res) ?? cookie;
      const newNames = await storedFields(store, idOf(next)!);
      const dataNames = (names: string[]) => names.filter((name) => name.startsWith('k:'));
      expect(dataNames(newNames)).toHaveLength(2);
      for (const name of dataNames(oldNames)) expect(newNames).not.toContain(name);
      await http(rotated).get('/peek').set('Cookie', next).expect(200, { isAdmin: true, impersonatedBy: 'second-operator' });
    });
  });

  it('without an encryptor the layout is unchanged (names readable, as the values are)', async () => {
    const store = new MemoryStore();
    const plain = await startApp(appWith(store, undefined, SECRET), platform);
    const cookie = sessionCookie(await http(plain).get('/elevate').expect(200))!;
    expect(await storedFields(store, idOf(cookie)!)).toEqual(expect.arrayContaining(['d:isAdmin', 'd:impersonatedBy']));
    await plain.close();
  });
});
