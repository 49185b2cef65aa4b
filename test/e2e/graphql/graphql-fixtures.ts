/**
 * Code-first resolvers and app modules for the GraphQL suites: Apollo on Express and Mercurius on
 * Fastify, each wired with its one line. Not a spec file.
 */
import {
  ForbiddenException,
  Injectable,
  Module,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type LoggerService,
  type Type,
} from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Args, Context, Field, GqlExecutionContext, GraphQLModule, Int, Mutation, ObjectType, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import {
  RegenerateSession,
  Session,
  SessionLock,
  SessionModule,
  SessionService,
  UseSessionAutoload,
  type SessionData,
  type SessionModuleOptions,
  type SessionStore,
} from '../../../src/index.js';
import { sessionApolloPlugin, sessionMercuriusRouteOptions } from '../../../src/graphql/index.js';
import { SECRET, http, sleep, startApp, type Platform } from '../../support/session-app.js';

/** The session these resolvers keep (a local type: augmenting SessionData would reach every suite). */
export interface GqlSession extends SessionData {
  user?: string;
  cart?: string[];
  counter?: number;
  attempts?: number;
  crashed?: boolean;
  guardVisits?: number;
}

/** An auth-style guard: guards run before interceptors, so it loads the session itself (and may change it). */
@Injectable()
export class CountingGuard implements CanActivate {
  constructor(private readonly sessions: SessionService) {}
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const session = await this.sessions.load<GqlSession>(GqlExecutionContext.create(context).getContext());
    session.guardVisits = (session.guardVisits ?? 0) + 1;
    return true;
  }
}

@ObjectType()
export class Profile {
  @Field(() => String, { nullable: true }) user?: string;
  @Field(() => [String]) cart!: string[];
}

/** What the GraphQL context is called in resolvers: Apollo `{ req }`, Mercurius `{ req, reply }`. */
type GqlContext = Record<string, unknown>;

@Resolver(() => Profile)
export class ProfileResolver {
  constructor(private readonly sessions: SessionService) {}

  // ---- never touches the session ----
  @Query(() => String) ping() {
    return 'pong';
  }

  // ---- @Session() and @Session('key') ----
  @Query(() => Profile) me(@Session() session: GqlSession): Profile {
    return { user: session.user, cart: session.cart ?? [] };
  }
  @Query(() => String, { nullable: true }) whoami(@Session('user') user: string | undefined) {
    return user ?? null;
  }
  /** A field resolver reading the session: the request's, loaded once. */
  @ResolveField(() => Int) cartSize(@Parent() _profile: Profile, @Session('cart') cart: string[] | undefined) {
    return cart?.length ?? 0;
  }

  @Mutation(() => [String]) add(@Session() session: GqlSession, @Args('item') item: string) {
    (session.cart ??= []).push(item); // a nested change, detected and saved
    return session.cart;
  }
  @Mutation(() => Boolean) @RegenerateSession() login(@Session() session: GqlSession, @Args('name') name: string) {
    session.user = name;
    return true;
  }

  // ---- SessionService with the GraphQL context in hand ----
  @Mutation(() => [String]) async addViaService(@Context() ctx: GqlContext, @Args('item') item: string) {
    const session = await this.sessions.load<GqlSession>(ctx);
    (session.cart ??= []).push(item);
    return session.cart;
  }
  @Query(() => String, { nullable: true }) sessionId(@Context() ctx: GqlContext) {
    return this.sessions.getId(ctx) ?? null;
  }
  @Query(() => Boolean) loaded(@Context() ctx: GqlContext) {
    return this.sessions.isLoaded(ctx);
  }
  /**
   * Mercurius users have the Fastify reply in hand (`ctx.reply`): the service takes it too. (Not
   * through `@Context('reply')`: a Fastify reply is a thenable, and Nest awaits parameter values.)
   */
  @Query(() => String, { nullable: true }) async userViaReply(@Context() ctx: GqlContext) {
    const session = await this.sessions.load<GqlSession>(ctx.reply ?? ctx);
    return session.user ?? null;
  }
  @Query(() => Boolean) async loadedOnceLoaded(@Context() ctx: GqlContext) {
    const session = await this.sessions.load<GqlSession>(ctx);
    return this.sessions.isLoaded(ctx) && this.sessions.get(ctx) === session;
  }
  @Mutation(() => Boolean) async logout(@Context() ctx: GqlContext) {
    await this.sessions.destroy(ctx);
    return true;
  }
  @Mutation(() => Boolean) async note(@Context() ctx: GqlContext, @Args('message') message: string) {
    await this.sessions.load(ctx);
    this.sessions.flash(ctx, 'notice', message);
    return true;
  }
  @Query(() => [String]) async notes(@Context() ctx: GqlContext) {
    await this.sessions.load(ctx);
    return this.sessions.flashes(ctx, 'notice') as string[];
  }
  @Mutation(() => Boolean) async bindMe(@Context() ctx: GqlContext, @Args('userId') userId: string) {
    await this.sessions.bindUser(ctx, userId);
    return true;
  }
  @Query(() => Int) async mySessions(@Context() ctx: GqlContext, @Args('userId') userId: string) {
    return (await this.sessions.listForUser(userId, ctx)).length;
  }

  @Query(() => Int) @UseGuards(CountingGuard) guarded(@Session() session: GqlSession) {
    return session.guardVisits ?? 0;
  }

  // ---- @SessionLock(): read-modify-write with a pause in the middle ----
  @Mutation(() => Int) @SessionLock({ wait: 5_000 }) async increment(@Session() session: GqlSession) {
    const seen = session.counter ?? 0;
    await sleep(40);
    session.counter = seen + 1;
    return session.counter;
  }

  // ---- errors: a 4xx keeps the changes, a crash drops them (the HTTP rules) ----
  @Mutation(() => Boolean) forbiddenAfterChange(@Session() session: GqlSession) {
    session.attempts = (session.attempts ?? 0) + 1;
    throw new ForbiddenException('no');
  }
  @Mutation(() => Boolean) crashAfterChange(@Session() session: GqlSession) {
    session.crashed = true;
    throw new Error('resolver crashed');
  }
}

/** `@UseSessionAutoload()` on a resolver class: loaded before each of its resolvers, for `get(ctx)`. */
@Resolver()
@UseSessionAutoload()
export class AutoloadResolver {
  constructor(private readonly sessions: SessionService) {}
  @Query(() => String, { nullable: true }) autoUser(@Context() ctx: GqlContext) {
    return this.sessions.get<GqlSession>(ctx).user ?? null;
  }
}

export type Driver = 'apollo' | 'mercurius';
export const DRIVERS: readonly { driver: Driver; platform: Platform }[] = [
  { driver: 'apollo', platform: 'express' },
  { driver: 'mercurius', platform: 'fastify' },
];

/** The GraphQL module as a user writes it, with (or, to show the refusal, without) the one line. */
export function graphqlModule(driver: Driver, options: { wired?: boolean; subscriptions?: boolean } = {}) {
  const { wired = true, subscriptions = false } = options;
  if (driver === 'apollo') {
    return GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: true,
      graphiql: false,
      allowBatchedHttpRequests: true,
      ...(subscriptions && { subscriptions: { 'graphql-ws': true } }),
      ...(wired && { plugins: [sessionApolloPlugin()] }),
    });
  }
  return GraphQLModule.forRoot<MercuriusDriverConfig>({
    driver: MercuriusDriver,
    autoSchemaFile: true,
    graphiql: false,
    allowBatchedQueries: true,
    // fullWsTransport: queries and mutations over the socket too, as graphql-ws does for Apollo.
    ...(subscriptions && { subscription: { fullWsTransport: true } }),
    ...(wired && { additionalRouteOptions: sessionMercuriusRouteOptions() }),
  });
}

export function graphqlApp(
  driver: Driver,
  store: SessionStore,
  options: { wired?: boolean; subscriptions?: boolean; resolvers?: Type<unknown>[]; session?: Partial<SessionModuleOptions>; logger?: LoggerService | false } = {},
) {
  @Module({
    imports: [
      SessionModule.forRoot({ secret: SECRET, store, cookie: { secure: false }, logger: options.logger ?? false, ...options.session }),
      graphqlModule(driver, { wired: options.wired, subscriptions: options.subscriptions }),
    ],
    providers: options.resolvers ?? [ProfileResolver, AutoloadResolver, CountingGuard],
  })
  class GraphqlAppModule {}
  return GraphqlAppModule;
}

export function startGraphqlApp(driver: Driver, module: Type<unknown>): Promise<INestApplication> {
  return startApp(module, driver === 'apollo' ? 'express' : 'fastify');
}

/** A GraphQL POST as a client sends it (JSON: never a CSRF-simple request). */
export function gql(app: INestApplication, body: unknown, cookie?: string) {
  const req = http(app).post('/graphql').set('Content-Type', 'application/json');
  if (cookie) req.set('Cookie', cookie);
  return req.send(typeof body === 'string' ? { query: body } : (body as object));
}
