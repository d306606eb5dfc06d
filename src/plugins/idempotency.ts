import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onSendHookHandler,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import { callerOf } from '../kernel/guards.js';
import { bodyFingerprint, claimKey, recordResponse, releaseKey } from '../kernel/idempotency.js';
import { AppError, badRequest } from '../lib/errors.js';
import { IDEMPOTENCY_KEY_PATTERN } from '../lib/openapi/responses.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route honours `Idempotency-Key` (`config: { idempotent: true }`): a retry with the same
     * key and request gets the first answer, and the handler does not run again.
     */
    idempotent?: boolean;
  }
}

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Set on an answer that is a replay of the first one. */
export const REPLAYED_HEADER = 'idempotent-replayed';
const KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);
/** The headers of the first answer that a replay repeats; the rest are the replay's own. */
const KEPT_HEADERS = ['content-type', 'location'];

const claims = new WeakMap<FastifyRequest, { id: string; claim: string }>();

function keyOf(request: FastifyRequest): string | undefined {
  const value = request.headers[IDEMPOTENCY_HEADER];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !KEY.test(value)) {
    const message = 'must be 1 to 255 printable ASCII characters';
    throw badRequest(`The Idempotency-Key header ${message}.`, [
      { path: '/headers/idempotency-key', message },
    ]);
  }
  return value;
}

/**
 * Idempotency keys, declared at the route. Before the handler (after the guard and the body's
 * validation, so a refused request claims nothing) the request claims its key; when its answer
 * is sent, the answer is recorded against the claim. A second request with the key gets:
 * - the first answer again, with `Idempotent-Replayed: true`, when it is the same request
 *   (method, path and canonical body) and the first has answered;
 * - 409 `idempotency_key_in_use` (Retry-After: 1) while the first is still running: it does not
 *   wait, so no connection or worker is held by a queue of retries;
 * - 422 `idempotency_key_reused` when it is a different request.
 * Answers below 500 are kept (a 404 or 409 is the answer to that request, too); after a 5xx the
 * key is given back, so the retry runs. Keys are per user: the route must have a guard.
 */
async function idempotency(app: FastifyInstance) {
  async function claimBeforeHandler(request: FastifyRequest, reply: FastifyReply) {
    const key = keyOf(request);
    if (key === undefined) return;
    const outcome = await claimKey(
      app.db,
      callerOf(request).id,
      key,
      { method: request.method, path: request.url, fingerprint: bodyFingerprint(request.body) },
      app.clock.now(),
    );
    switch (outcome.kind) {
      case 'claimed':
        claims.set(request, outcome);
        return;
      case 'replay': {
        const { statusCode, headers, body } = outcome.response;
        return reply
          .code(statusCode)
          .headers({ ...headers, [REPLAYED_HEADER]: 'true' })
          .send(body);
      }
      case 'in_use':
        throw new AppError(
          409,
          'idempotency_key_in_use',
          'A request with this Idempotency-Key is still being processed; retry shortly.',
          undefined,
          { 'retry-after': '1' },
        );
      case 'reused':
        throw new AppError(
          422,
          'idempotency_key_reused',
          'This Idempotency-Key was used for a different request; use a new key for a new request.',
        );
    }
  }

  const recordAfterHandler: onSendHookHandler = async (request, reply, payload) => {
    const held = claims.get(request);
    if (!held) return payload;
    claims.delete(request);
    try {
      const body = payload ?? '';
      // A 5xx or a 429 (a per-user limit refused it after the claim) is no answer to keep: the
      // key is released, so a retry with it runs the request.
      if (reply.statusCode >= 500 || reply.statusCode === 429 || typeof body !== 'string') {
        await releaseKey(app.db, held);
        return payload;
      }
      const headers: Record<string, string> = {};
      for (const name of KEPT_HEADERS) {
        const value = reply.getHeader(name);
        if (value !== undefined) headers[name] = String(value);
      }
      const recorded = await recordResponse(app.db, held, {
        statusCode: reply.statusCode,
        headers,
        body,
      });
      if (!recorded) request.log.warn('idempotency claim lost before the answer was recorded');
    } catch (error) {
      // The effect is done and the client gets its answer; a retry within the lease gets 409,
      // after it the request runs again (the at-least-once window docs/api-usage.md describes).
      request.log.error({ err: error }, 'could not record the answer of an idempotent request');
    }
    return payload;
  };

  // After the auth plugin's onRoute hook, which has recorded the route's guard in its config.
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.config?.idempotent) return;
    if ((route.config.auth ?? 'public') === 'public') {
      throw new Error(`${route.url}: an idempotent route needs a guard (keys are per user)`);
    }
    route.preHandler = [claimBeforeHandler, ...[route.preHandler ?? []].flat()];
    route.onSend = [...[route.onSend ?? []].flat(), recordAfterHandler];
  });
}

export default fp(idempotency, { name: 'idempotency', dependencies: ['auth'] });
