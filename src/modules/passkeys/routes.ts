import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { Type } from 'typebox';
import { callerOf } from '../../kernel/guards.js';
import { requestContext } from '../../lib/request-context.js';
import { errors, IdParams } from '../../lib/schemas.js';
import { TokenPair } from '../auth/schemas.js';
import {
  Passkey,
  PasskeyList,
  PasskeyOptionsBody,
  PasskeyRegisterBody,
  PasskeyRegistrationOptions,
  PasskeySignInOptions,
  PasskeyVerifyBody,
} from './schemas.js';
import type { PasskeysService } from './service.js';

/** An attestation object is a few hundred bytes; refused on Content-Length past this. */
const PASSKEY_BODY_LIMIT = 65_536;

/** Passkeys: the user's own (register, list, delete) and signing in with one. */
export const passkeyRoutes: FastifyPluginAsyncTypebox<{ passkeys: PasskeysService }> = async (
  app,
  { passkeys },
) => {
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= PASSKEY_BODY_LIMIT;
  });

  app.post(
    '/users/me/passkeys/options',
    {
      // Not app.requireStepUp: the password may stand in for the fresh second factor when the
      // user has no TOTP; the service applies the rule (403 step_up_required with TOTP on).
      onRequest: app.requireUser,
      schema: {
        tags: ['passkeys'],
        summary: 'Start adding a passkey',
        description:
          'The options for `navigator.credentials.create()`: a discoverable credential with user verification, no attestation, your existing passkeys excluded. Needs the password, or a second factor proven in the last 10 minutes (step-up, or a passkey sign-in); with two-factor sign-in on, that fresh proof is required (403 `step_up_required`) and the password does not replace it. The challenge is bound to this session, works once and expires in 5 minutes. 409 at 10 passkeys.',
        operationId: 'passkeyRegistrationOptions',
        body: PasskeyOptionsBody,
        response: { 200: PasskeyRegistrationOptions, ...errors(403, 409) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return passkeys.registrationOptions(callerOf(request), request.body.password);
    },
  );

  app.post(
    '/users/me/passkeys',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['passkeys'],
        summary: 'Add a passkey',
        description:
          'Verifies what `navigator.credentials.create()` returned for a challenge of this session (origin, RP ID, user verification) and keeps the public key under the name given. 400 `invalid_token` for a used, expired or foreign challenge; 400 `validation_failed` for a response that does not verify; 409 for a passkey registered already.',
        operationId: 'registerPasskey',
        body: PasskeyRegisterBody,
        response: { 201: Passkey, ...errors(409) },
      },
    },
    async (request, reply) => {
      const { name, credential } = request.body;
      const created = await passkeys.register(
        callerOf(request),
        name,
        // The schema checked the fields this API reads; the library checks the rest.
        credential as unknown as RegistrationResponseJSON,
        requestContext(request),
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/users/me/passkeys',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['passkeys'],
        summary: 'My passkeys',
        description: 'Every passkey of the account (at most 10, so never paged), oldest first.',
        operationId: 'listPasskeys',
        response: { 200: PasskeyList, ...errors() },
      },
    },
    async (request) => ({ items: await passkeys.list(callerOf(request).id) }),
  );

  app.delete(
    '/users/me/passkeys/:id',
    {
      onRequest: [app.requireUser, app.requireStepUp],
      schema: {
        tags: ['passkeys'],
        summary: 'Delete a passkey',
        description:
          'The passkey stops signing in at once. With two-factor sign-in on, needs a step-up in the last 10 minutes. 404 for a passkey that is not yours.',
        operationId: 'deletePasskey',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errors(404) },
      },
    },
    async (request, reply) => {
      await passkeys.remove(callerOf(request), request.params.id, requestContext(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/passkey/options',
    {
      config: app.rateLimits.auth('/auth/passkey/options'),
      schema: {
        tags: ['passkeys'],
        summary: 'Sign in with a passkey: the challenge',
        description:
          'The options for `navigator.credentials.get()`, naming no user: the browser offers the passkeys it holds for this site. Send the result with `challengeId` to POST /auth/passkey/verify within 5 minutes; each challenge is answered once.',
        operationId: 'passkeySignInOptions',
        response: { 200: PasskeySignInOptions, ...errors() },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return passkeys.signInOptions();
    },
  );

  app.post(
    '/auth/passkey/verify',
    {
      config: app.rateLimits.auth('/auth/passkey/verify'),
      schema: {
        tags: ['passkeys'],
        summary: 'Sign in with a passkey',
        description:
          'Exchanges a challenge and the passkey’s assertion for the token pair, at aal2 (`amr: ["hwk"]`): no password. The challenge is spent whatever the outcome. 400 `invalid_token` for a used, expired or unknown challenge; 401 `invalid_credentials` for an unknown passkey, a signature that does not verify, or a signature counter that did not advance (a cloned authenticator, refused and audited).',
        operationId: 'passkeySignIn',
        body: PasskeyVerifyBody,
        response: { 200: TokenPair, ...errors(401, 403) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { challengeId, credential } = request.body;
      return passkeys.verifySignIn(
        challengeId,
        credential as unknown as AuthenticationResponseJSON,
        requestContext(request),
      );
    },
  );
};
