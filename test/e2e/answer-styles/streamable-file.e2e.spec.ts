import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, StreamableFile, type INestApplication } from '@nestjs/common';
import { Readable } from 'node:stream';
import { MemoryStore, Session, SessionModule, type SessionData } from '../../../src/index.js';
import { PLATFORMS, SECRET, http, idOf, sessionCookie, setCookies, startApp } from '../../support/session-app.js';
import { stored } from '../commit-rules/fixtures.js';

@Controller('file')
class FileController {
  @Get('seed') seed(@Session() session: SessionData) {
    session.user = 'ada';
    return { ok: true };
  }
  @Get('buffer') buffer(@Session() session: SessionData) {
    session.downloads = ((session.downloads as number) ?? 0) + 1;
    return new StreamableFile(Buffer.from('file contents'), { type: 'text/plain', disposition: 'attachment; filename="a.txt"' });
  }
  @Get('stream') stream(@Session() session: SessionData) {
    session.streamed = true;
    return new StreamableFile(Readable.from(['chunk-1;', 'chunk-2;', 'chunk-3']), { type: 'text/plain' });
  }
  @Get('read-only') readOnly(@Session() session: SessionData) {
    return new StreamableFile(Buffer.from(String(session.user ?? 'nobody')), { type: 'text/plain' });
  }
}

function fixture() {
  const store = new MemoryStore();
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: false })],
    controllers: [FileController],
  })
  class FileAppModule {}
  return { store, FileAppModule };
}

describe.each(PLATFORMS)('answer styles: StreamableFile (%s)', (platform) => {
  const { store, FileAppModule } = fixture();
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(FileAppModule, platform);
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('a buffer file: body intact, cookie sent, change saved', async () => {
    const res = await http(app).get('/file/buffer').buffer(true).expect(200);
    expect(res.text).toBe('file contents');
    expect(res.headers['content-disposition']).toBe('attachment; filename="a.txt"');
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    expect(await stored(store, idOf(cookie))).toEqual({ downloads: 1 });
  });

  it('a stream file: body intact, cookie sent, change saved', async () => {
    const res = await http(app).get('/file/stream').buffer(true).expect(200);
    expect(res.text).toBe('chunk-1;chunk-2;chunk-3');
    expect(await stored(store, idOf(sessionCookie(res)))).toEqual({ streamed: true });
  });

  it('an existing session is updated; a read-only download sends no cookie', async () => {
    const seed = await http(app).get('/file/seed').expect(200);
    const cookie = sessionCookie(seed)!;
    const changed = await http(app).get('/file/buffer').set('Cookie', cookie).expect(200);
    expect(idOf(sessionCookie(changed))).toBe(idOf(cookie));
    expect(await stored(store, idOf(cookie))).toEqual({ user: 'ada', downloads: 1 });
    const readOnly = await http(app).get('/file/read-only').set('Cookie', cookie).buffer(true).expect(200);
    expect(readOnly.text).toBe('ada');
    expect(setCookies(readOnly)).toEqual([]);
  });
});
