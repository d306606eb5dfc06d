import type {
  FastifyInstance,
  FastifyRequest,
  onRequestAsyncHookHandler,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import {
  type AuthRequirement,
  assertSteppedUp,
  type Caller,
  type CallerSource,
  callerOf,
} from '../kernel/guards.js';
import { AppError, forbidden, unauthorized } from '../lib/errors.js';
import { bearerSecurity, errors } from '../lib/schemas.js';

const REQUIREMENT = Symbol('authRequirement');
const STEP_UP = Symbol('stepUp');
type Guard = onRequestAsyncHookHandler & { [REQUIREMENT]: AuthRequirement };
type StepUpGuard = onRequestAsyncHookHandler & { [STEP_UP]: true };
type Hook = Partial<Guard> & Partial<StepUpGuard>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Filled from the route's guard when the route is registered; read by the RBAC matrix test. */
    auth?: AuthRequirement;
    /** True when the route declares requireStepUp; read by the step-up table test. */
    stepUp?: boolean;
    /**
     * Open to a user whom MFA_REQUIRED_ROLES obliges to enrol and who has not yet: enrolment,
     * GET /users/me and logout. Every other guarded route answers 403 mfa_enrollment_required.
     */
    beforeMfaEnrolment?: boolean;
  }
}

const STEP_UP_NOTE =
  'Step-up: for a user with two-factor sign-in, the session must have proven its second factor in the last 10 minutes (`POST /auth/step-up`), else 403 `step_up_required`.';

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
    request.caller = claims.expiresAt ? { ...caller, tokenExpiresAt: claims.expiresAt } : caller;
    return request.caller;
  }

  const mfaRequiredRoles = new Set(app.config.mfaRequiredRoles);
  const mustEnrolFirst = (caller: Caller) =>
    !caller.hasMfa && caller.roles.some((role) => mfaRequiredRoles.has(role));

  function guard(requirement: AuthRequirement): Guard {
    const hook = (async (request: FastifyRequest) => {
      const caller = await authenticate(request);
      if (mustEnrolFirst(caller) && !request.routeOptions.config.beforeMfaEnrolment) {
        throw new AppError(
          403,
          'mfa_enrollment_required',
          'Your role requires two-factor sign-in: enrol an authenticator app first (POST /users/me/mfa/totp, then /users/me/mfa/totp/confirm).',
        );
      }
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

  // Runs after the route's user or permission guard (ordered below), so the caller is loaded.
  const requireStepUp = (async (request: FastifyRequest) => {
    assertSteppedUp(callerOf(request), app.clock.now());
  }) as unknown as StepUpGuard;
  requireStepUp[STEP_UP] = true;
  app.decorate('requireStepUp', requireStepUp);

  // Every route states its requirement through its guard; the document and the matrix test follow.
  app.addHook('onRoute', (route: RouteOptions) => {
    const hooks = [route.onRequest ?? []].flat() as Hook[];
    const requirement = hooks.find((hook) => hook[REQUIREMENT])?.[REQUIREMENT] ?? 'public';
    const stepUp = hooks.some((hook) => hook[STEP_UP]);
    if (stepUp && requirement === 'public') {
      throw new Error(
        `${route.method} ${route.url}: requireStepUp needs requireUser or requirePermission`,
      );
    }
    // Guards run last in onRequest, after the rate limiter: rejected tokens count towards limits;
    // the step-up check runs after the guard that loads the caller.
    route.onRequest = [
      ...hooks.filter((hook) => !hook[REQUIREMENT] && !hook[STEP_UP]),
      ...hooks.filter((hook) => hook[REQUIREMENT]),
      ...hooks.filter((hook) => hook[STEP_UP]),
    ] as RouteOptions['onRequest'];
    route.config = { ...route.config, auth: requirement, ...(stepUp ? { stepUp } : {}) };
    if (requirement === 'public' || !route.schema) return;
    route.schema.security = bearerSecurity;
    if (stepUp) {
      route.schema.description = `${route.schema.description ?? ''} ${STEP_UP_NOTE}`.trim();
    }
    route.schema.response = { ...errors(401, 403), ...(route.schema.response as object) };
  });
}

// After rate-limits: its onRoute hook adds the limiter to onRequest before ours puts guards last.
export default fp(auth, { name: 'auth', dependencies: ['errors', 'rate-limits'] });
