import { Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard, PassportSerializer, PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { UsernamePipe } from './username.pipe.js';

/** The signed-in user as Passport keeps it: the sample's users are their names. */
export interface SampleUser {
  id: string;
}

type Verify = (username: unknown, done: (error: unknown, user?: SampleUser | false) => void) => void;

/**
 * A Passport strategy that signs in by name alone (the sample has no user table or passwords;
 * a real app uses passport-local or OAuth the same way).
 */
class NameOnlyStrategy extends passport.Strategy {
  override name = 'name-only';
  constructor(private readonly verify: Verify) {
    super();
  }
  override authenticate(req: { body?: { username?: unknown } }): void {
    this.verify(req.body?.username, (error, user) => (error ? this.error(error) : user ? this.success(user) : this.fail(401)));
  }
}

@Injectable()
export class NameLoginStrategy extends PassportStrategy(NameOnlyStrategy, 'name-only') {
  private readonly usernames = new UsernamePipe();
  /** 400 for a missing or over-long name, as before. */
  validate(username: unknown): SampleUser {
    return { id: this.usernames.transform(username) };
  }
}

/** What Passport keeps in the session (`passport.user`) and how it restores `req.user`. */
@Injectable()
export class SampleSerializer extends PassportSerializer {
  serializeUser(user: SampleUser, done: (error: Error | null, id?: string) => void): void {
    done(null, user.id);
  }
  deserializeUser(id: string, done: (error: Error | null, user?: SampleUser) => void): void {
    done(null, { id });
  }
}

/** Signs in, then `logIn()`: Passport regenerates the session ID and stores the user in it. */
@Injectable()
export class NameLoginGuard extends AuthGuard('name-only') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const result = (await super.canActivate(context)) as boolean;
    await super.logIn(context.switchToHttp().getRequest());
    return result;
  }
}
