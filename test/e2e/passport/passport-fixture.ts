/**
 * The NestJS docs' Passport session recipe, as users write it: a LocalStrategy, a guard that calls
 * `super.logIn(request)`, a PassportSerializer, `req.isAuthenticated()` and `req.logout(cb)`.
 */
import {
  Controller,
  Get,
  HttpCode,
  Injectable,
  Module,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { AuthGuard, PassportModule, PassportSerializer, PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { Session, SessionModule, SessionService, type SessionData, type SessionObject } from '../../../src/index.js';
import { PassportSessionGuard } from '../../../src/passport/index.js';
import { CountingStore } from '../../support/counting-store.js';
import { SECRET } from '../../support/session-app.js';

export interface User {
  id: string;
  name: string;
}

/** The user table; deleting a user makes the deserializer return false. */
export const users = new Map<string, User & { password: string }>();
export function resetUsers(): void {
  users.clear();
  users.set('u1', { id: 'u1', name: 'ada', password: 'secret' });
  users.set('u2', { id: 'u2', name: 'grace', password: 'hopper' });
}

@Injectable()
class LocalStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super();
  }
  validate(username: string, password: string): User {
    const user = [...users.values()].find((u) => u.name === username && u.password === password);
    if (!user) throw new UnauthorizedException();
    return { id: user.id, name: user.name };
  }
}

@Injectable()
class SessionSerializer extends PassportSerializer {
  serializeUser(user: User, done: (err: Error | null, id?: string) => void) {
    done(null, user.id);
  }
  deserializeUser(id: string, done: (err: Error | null, user?: User | false) => void) {
    const user = users.get(id);
    done(null, user ? { id: user.id, name: user.name } : false);
  }
}

@Injectable()
class LocalAuthGuard extends AuthGuard('local') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const result = (await super.canActivate(context)) as boolean;
    await super.logIn(context.switchToHttp().getRequest());
    return result;
  }
}

@Injectable()
class AuthenticatedGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest().isAuthenticated?.() === true;
  }
}

export type PassportMode = 'eager' | 'lazy';

/** The app for one mode: eager (passport.session() on every request) or lazy (PassportSessionGuard). */
export function passportApp(mode: PassportMode, store: CountingStore): Type {
  // Eager: global middleware provides req.session and req.user. Lazy: the guard does, per route.
  const loginGuards: Type<CanActivate>[] = mode === 'lazy' ? [PassportSessionGuard, LocalAuthGuard] : [LocalAuthGuard];
  const userGuards: Type<CanActivate>[] = mode === 'lazy' ? [PassportSessionGuard, AuthenticatedGuard] : [AuthenticatedGuard];
  const sessionGuards: Type<CanActivate>[] = mode === 'lazy' ? [PassportSessionGuard] : [];

  @Controller()
  class AuthController {
    constructor(private readonly sessions: SessionService) {}

    @Get('public') publicRoute() {
      return { ok: true };
    }

    /** Something a visitor does before logging in (a cart, a return address). */
    @Get('visit') visit(@Session() session: SessionData) {
      session.returnTo = '/checkout';
      return { id: session.id };
    }

    @Post('login') @HttpCode(200) @UseGuards(...loginGuards)
    login(@Req() req: { user: User; session: SessionObject; body: { remember?: string } }) {
      if (req.body.remember === 'on') req.session.cookie.maxAge = 30 * 24 * 3600 * 1000;
      return { user: req.user, returnTo: req.session.returnTo ?? null };
    }

    @Get('me') @UseGuards(...userGuards)
    me(@Req() req: { user: User }) {
      return { user: req.user };
    }

    @Get('whoami') @UseGuards(...sessionGuards)
    whoami(@Req() req: { user?: User }) {
      return { user: req.user ?? null };
    }

    @Post('logout') @HttpCode(200) @UseGuards(...sessionGuards)
    async logout(@Req() req: { logout(cb: (err?: unknown) => void): void }) {
      await new Promise<void>((resolve, reject) => req.logout((err) => (err ? reject(err) : resolve())));
      return { ok: true };
    }
  }

  @Module({
    imports: [
      SessionModule.forRoot({ secret: SECRET, store, logger: false, cookie: { secure: false } }),
      PassportModule.register({ session: true, keepSessionInfo: true }),
    ],
    controllers: [AuthController],
    providers: [LocalStrategy, SessionSerializer],
  })
  class PassportAppModule {}
  return PassportAppModule;
}
