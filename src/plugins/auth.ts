import type {
  FastifyInstance,
  FastifyRequest,
  onRequestAsyncHookHandler,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import type { AuthRequirement, Caller, CallerSource } from '../kernel/guards.js';
import { forbidden, unauthorized } from '../lib/errors.js';
import { bearerSecurity, errors } from '../lib/schemas.js';

const REQUIREMENT = Symbol('authRequirement');
type Guard = onRequestAsyncHookHandler & { [REQUIREMENT]: AuthRequirement };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Filled from the route's guard when the route is registered; read by the RBAC matrix test. */
    auth?: AuthRequirement;
  }
}

/** Touching last_used_at on every request would be a write per read; once a minute is enough. */
const TOUCH_INTERVAL_MS = 60_000;

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer ([A-Za-z0-9_\-.=+/]{10,4096})$/i.exec(header);
  if (!match) throw unauthorized('The Authorization header must be "Bearer <access token>".');
  return match[1];
}

async function auth(app: FastifyInstance, callers: CallerSource) {
  app.decorateRequest('caller', null);

  async function authenticate(request: FastifyRequest): Promise<Caller> {
    if (request.caller) return request.caller;
    const token = bearerToken(request);
    if (!token) throw unauthorized();
    const claims = await callers.verifyAccessToken(token);
    const now = app.clock.now();
    const caller = await callers.load(claims.userId, claims.sessionId, now);
    if (!caller) throw unauthorized('The session has ended or the account is disabled.');
    if (now.getTime() - caller.sessionLastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
      callers
        .touchSession(caller.sessionId, now)
        .catch((error) => request.log.warn({ err: error }, 'could not record session use'));
    }
    request.caller = caller;
    return caller;
  }

  function guard(requirement: AuthRequirement): Guard {
    const hook = (async (request: FastifyRequest) => {
      const caller = await authenticate(request);
      if (requirement !== 'user' && !caller.permissions.includes(requirement)) {
        throw forbidden(`This needs the ${requirement} permission.`);
      }
    }) as unknown as Guard;
    hook[REQUIREMENT] = requirement;
    return hook;
  }

  const requireUser = guard('user');
  app.decorate('requireUser', requireUser);
  app.decorate('requirePermission', (permission: `${string}:${string}`) => guard(permission));

  // Every route states its requirement through its guard; the document and the matrix test follow.
  app.addHook('onRoute', (route: RouteOptions) => {
    const hooks = [route.onRequest ?? []].flat() as Array<Partial<Guard>>;
    const requirement = hooks.find((hook) => hook[REQUIREMENT])?.[REQUIREMENT] ?? 'public';
    // Guards run last in onRequest, after the rate limiter: rejected tokens count towards limits.
    route.onRequest = [
      ...hooks.filter((hook) => !hook[REQUIREMENT]),
      ...hooks.filter((hook) => hook[REQUIREMENT]),
    ] as RouteOptions['onRequest'];
    route.config = { ...route.config, auth: requirement };
    if (requirement === 'public' || !route.schema) return;
    route.schema.security = bearerSecurity;
    route.schema.response = { ...errors(401, 403), ...(route.schema.response as object) };
  });
}

// After rate-limits: its onRoute hook adds the limiter to onRequest before ours puts guards last.
export default fp(auth, { name: 'auth', dependencies: ['errors', 'rate-limits'] });
