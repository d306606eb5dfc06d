import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { callerOf } from '../../kernel/guards.js';
import { requestContext } from '../../lib/request-context.js';
import { errors, IdParams } from '../../lib/schemas.js';
import { TokenPair } from '../auth/schemas.js';
import {
  MfaChangeBody,
  MfaStatus,
  MfaVerifyBody,
  RecoveryCodes,
  StepUpBody,
  StepUpResult,
  TotpConfirmBody,
  TotpEnrolBody,
  TotpEnrolment,
} from './schemas.js';
import type { MfaService, Proof } from './service.js';

const proofOf = (body: { code: string } | { recoveryCode: string }): Proof =>
  'code' in body ? { code: body.code } : { recoveryCode: body.recoveryCode };

/** Every route here is small-bodied: refused on Content-Length past this. */
const MFA_BODY_LIMIT = 16_384;

/** Two-factor sign-in: the user's own settings, the second step of a sign-in, step-up. */
export const mfaRoutes: FastifyPluginAsyncTypebox<{ mfa: MfaService }> = async (app, { mfa }) => {
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= MFA_BODY_LIMIT;
  });

  app.get(
    '/users/me/mfa',
    {
      onRequest: app.requireUser,
      config: { beforeMfaEnrolment: true },
      schema: {
        tags: ['mfa'],
        summary: 'My two-factor sign-in',
        description: 'Whether two-factor sign-in is on, and how many recovery codes are left.',
        operationId: 'getMyMfa',
        response: { 200: MfaStatus, ...errors() },
      },
    },
    async (request) => mfa.status(callerOf(request).id),
  );

  app.post(
    '/users/me/mfa/totp',
    {
      onRequest: app.requireUser,
      config: { beforeMfaEnrolment: true },
      schema: {
        tags: ['mfa'],
        summary: 'Start enrolling an authenticator app',
        description:
          'Needs the password (a wrong one is 400). Returns a new secret, its `otpauth://` URI and that URI as a QR code (SVG, made here, never sent elsewhere). Two-factor sign-in is not on until POST /users/me/mfa/totp/confirm; starting again replaces a pending secret. 409 when it is on already.',
        operationId: 'enrolTotp',
        body: TotpEnrolBody,
        response: { 200: TotpEnrolment, ...errors(409) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return mfa.enrol(callerOf(request), request.body.password, requestContext(request));
    },
  );

  app.post(
    '/users/me/mfa/totp/confirm',
    {
      onRequest: app.requireUser,
      config: { beforeMfaEnrolment: true },
      schema: {
        tags: ['mfa'],
        summary: 'Confirm the authenticator app',
        description:
          'A current code from the app turns two-factor sign-in on and returns 10 recovery codes, shown this once (only their hashes are kept). The session counts as stepped up. 400 `invalid_code` for a wrong code, 409 without a pending enrolment.',
        operationId: 'confirmTotp',
        body: TotpConfirmBody,
        response: { 200: RecoveryCodes, ...errors(409) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return mfa.confirm(callerOf(request), request.body.code, requestContext(request));
    },
  );

  app.post(
    '/users/me/mfa/recovery-codes',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['mfa'],
        summary: 'Replace my recovery codes',
        description:
          'Needs the password and a current code (or a recovery code): that proof is the step-up. The old codes stop working; the 10 new ones are shown this once. 409 when two-factor sign-in is off.',
        operationId: 'regenerateRecoveryCodes',
        body: MfaChangeBody,
        response: { 200: RecoveryCodes, ...errors(409) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { password } = request.body;
      return mfa.regenerateRecoveryCodes(
        callerOf(request),
        password,
        proofOf(request.body),
        requestContext(request),
      );
    },
  );

  app.delete(
    '/users/me/mfa/totp',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['mfa'],
        summary: 'Turn two-factor sign-in off',
        description:
          'Needs the password and a current code (or a recovery code): that proof is the step-up. Removes the authenticator and the recovery codes. 409 when it is off.',
        operationId: 'disableTotp',
        body: MfaChangeBody,
        response: { 204: Type.Null({ description: 'Two-factor sign-in is off' }), ...errors(409) },
      },
    },
    async (request, reply) => {
      await mfa.disable(
        callerOf(request),
        request.body.password,
        proofOf(request.body),
        requestContext(request),
      );
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/mfa/verify',
    {
      config: app.rateLimits.auth('/auth/mfa/verify'),
      schema: {
        tags: ['mfa'],
        summary: 'Sign in: the second step',
        description:
          'Exchanges the challenge of a 401 `mfa_required` login and a current code (or a recovery code, which is then burnt) for the token pair, at aal2 (`amr: ["pwd", "otp"]`). A code is accepted once; ±30 s of clock drift is allowed. 401 `invalid_credentials` for a wrong code: five void the challenge, and wrong codes count against the account like wrong passwords (429). 400 `invalid_token` for a used, expired or unknown challenge.',
        operationId: 'verifyMfa',
        body: MfaVerifyBody,
        response: { 200: TokenPair, ...errors(401) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return mfa.verifySignIn(
        request.body.challenge,
        proofOf(request.body),
        requestContext(request),
      );
    },
  );

  app.post(
    '/auth/step-up',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['mfa'],
        summary: 'Step up',
        description:
          'A current code (or a recovery code) raises this session to aal2 for 10 minutes of sensitive actions (403 `step_up_required` otherwise). Returns an access token that says so; the refresh token stays. 400 `invalid_code` for a wrong or used code, 409 when two-factor sign-in is off.',
        operationId: 'stepUp',
        body: StepUpBody,
        response: { 200: StepUpResult, ...errors(409) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return mfa.stepUp(callerOf(request), proofOf(request.body), requestContext(request));
    },
  );
};

/** The admin's side: reset a user's MFA. */
export const mfaAdminRoutes: FastifyPluginAsyncTypebox<{ mfa: MfaService }> = async (
  app,
  { mfa },
) => {
  app.post(
    '/admin/users/:id/mfa/reset',
    {
      onRequest: [app.requirePermission('users:manage'), app.requireStepUp],
      schema: {
        tags: ['admin'],
        summary: 'Reset a user’s two-factor sign-in',
        description:
          'For a user who lost both the authenticator and the recovery codes: removes them (the user signs in with the password alone and can enrol again), voids the user’s outstanding reset and verification links and sign-in challenges, mails the user, and records an audit event naming the admin. 409 when the user has no second factor.',
        operationId: 'adminResetMfa',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Reset' }), ...errors(404, 409) },
      },
    },
    async (request, reply) => {
      await mfa.adminReset(callerOf(request).id, request.params.id, requestContext(request));
      return reply.code(204).send(null);
    },
  );
};
