import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Query, type INestApplication } from '@nestjs/common';
import { Session, SessionModule, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, startApp } from '../../support/session-app.js';
import { SpyStore, stored } from './fixtures.js';

interface Cart {
  items: { sku: string; qty: number }[];
}

@Controller('nested')
class NestedController {
  @Get('seed') seed(@Session() session: SessionData) {
    session.cart = { items: [] };
    session.profile = { address: { city: 'Paris' }, tags: ['a'] };
    return { ok: true };
  }
  @Get('push') push(@Session() session: SessionData, @Query('sku') sku: string) {
    (session.cart as Cart).items.push({ sku, qty: 1 });
    return { ok: true };
  }
  @Get('bump') bump(@Session() session: SessionData) {
    (session.cart as Cart).items[0].qty++;
    return { ok: true };
  }
  @Get('city') city(@Session() session: SessionData, @Query('to') to: string) {
    (session.profile as { address: { city: string } }).address.city = to;
    return { ok: true };
  }
  @Get('delete-nested') deleteNested(@Session() session: SessionData) {
    delete (session.profile as { address?: unknown }).address;
    return { ok: true };
  }
  @Get('splice') splice(@Session() session: SessionData) {
    (session.profile as { tags: string[] }).tags.splice(0, 1);
    return { ok: true };
  }
  /** Mutation through a reference kept across an await. */
  @Get('later') async later(@Session() session: SessionData) {
    const items = (session.cart as Cart).items;
    await new Promise((resolve) => setTimeout(resolve, 5));
    items.push({ sku: 'late', qty: 1 });
    return { ok: true };
  }
}

function fixture() {
  const store = new SpyStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [NestedController],
  })
  class NestedAppModule {}
  return { store, NestedAppModule };
}

describe.each(PLATFORMS)('commit rules: nested mutation is detected and saved (%s)', (platform) => {
  const { store, NestedAppModule } = fixture();
  let app: INestApplication;
  let cookie: string;
  let id: string;
  beforeAll(async () => {
    app = await startApp(NestedAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });
  beforeEach(async () => {
    cookie = sessionCookie(await http(app).get('/nested/seed').expect(200))!;
    id = idOf(cookie)!;
    store.resetCalls();
  });

  it('session.cart.items.push(x) is saved, and the cookie re-sent for the same id', async () => {
    const res = await http(app).get('/nested/push?sku=apple').set('Cookie', cookie).expect(200);
    expect(idOf(sessionCookie(res))).toBe(id);
    expect(store.calls.write + store.calls.update).toBeGreaterThan(0);
    expect((await stored(store, id))!.cart).toEqual({ items: [{ sku: 'apple', qty: 1 }] });
    await http(app).get('/nested/push?sku=pear').set('Cookie', cookie).expect(200);
    expect((await stored(store, id))!.cart).toEqual({ items: [{ sku: 'apple', qty: 1 }, { sku: 'pear', qty: 1 }] });
  });

  it('a counter inside an array element is saved', async () => {
    await http(app).get('/nested/push?sku=apple').set('Cookie', cookie).expect(200);
    await http(app).get('/nested/bump').set('Cookie', cookie).expect(200);
    expect((await stored(store, id))!.cart).toEqual({ items: [{ sku: 'apple', qty: 2 }] });
  });

  it('a property two levels down is saved', async () => {
    await http(app).get('/nested/city?to=Lyon').set('Cookie', cookie).expect(200);
    expect((await stored(store, id))!.profile).toEqual({ address: { city: 'Lyon' }, tags: ['a'] });
  });

  it('deleting a nested key and splicing a nested array are saved', async () => {
    await http(app).get('/nested/delete-nested').set('Cookie', cookie).expect(200);
    await http(app).get('/nested/splice').set('Cookie', cookie).expect(200);
    expect((await stored(store, id))!.profile).toEqual({ tags: [] });
  });

  it('a mutation through a nested reference after an await is saved', async () => {
    await http(app).get('/nested/later').set('Cookie', cookie).expect(200);
    expect((await stored(store, id))!.cart).toEqual({ items: [{ sku: 'late', qty: 1 }] });
  });

  it('a new session whose only content is nested is created', async () => {
    const res = await http(app).get('/nested/seed').expect(200);
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({
      cart: { items: [] },
      profile: { address: { city: 'Paris' }, tags: ['a'] },
    });
  });
});
