import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyReply } from 'fastify';
import { AppError, badRequest } from '../../lib/errors.js';
import { requestContext } from '../../lib/request-context.js';
import { toLoggedAppError } from '../../plugins/errors.js';
import type { AuthService } from '../auth/service.js';
import type { EmailChangeService } from '../users/email-change.js';
import { PAGE_CSP } from './html.js';
import {
  ForgotForm,
  isTokenShaped,
  LinkQuery,
  pageResponses,
  ResetForm,
  VerifyForm,
} from './schemas.js';
import {
  emailChangeDone,
  emailChangeForm,
  emailRevertDone,
  emailRevertForm,
  errorPage,
  forgotForm,
  forgotSent,
  resetDone,
  resetForm,
  verifyDone,
  verifyForm,
} from './views.js';

const FORM = 'application/x-www-form-urlencoded';

function sendPage(reply: FastifyReply, status: number, html: string) {
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

const damagedLink = () =>
  badRequest(
    'This link is incomplete. Open it from the mail again, or copy the whole address into the browser.',
  );

/**
 * The pages the links in mails open when no front end is configured (PUBLIC_APP_URL unset).
 * A GET only shows a form: link scanners follow links, so nothing is used up until a person
 * presses the button and the form POSTs. The POSTs call the same service as the JSON routes.
 * No cookie or session is involved, so a cross-site form post gains nothing the attacker could
 * not do by calling the API directly: no CSRF token is needed.
 */
export const accountPages: FastifyPluginAsyncTypebox<{
  auth: AuthService;
  emailChanges: EmailChangeService;
}> = async (app, { auth, emailChanges }) => {
  // Encapsulated: forms only on these routes, and their errors as pages, not problem+json.
  await app.register(formbody, { bodyLimit: 8_192 });
  app.removeContentTypeParser('application/json');
  app.addHook('onRequest', (_request, reply, done) => {
    reply.header('content-security-policy', PAGE_CSP);
    reply.header('x-robots-tag', 'noindex');
    done();
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toLoggedAppError(error, request);
    if (problem.headers) reply.headers(problem.headers);
    const path = request.routeOptions.url ?? '';
    return sendPage(reply, problem.statusCode, errorPage(path, problem, request.id));
  });

  app.get(
    '/verify-email',
    {
      schema: {
        tags: ['pages'],
        summary: 'Email confirmation page',
        description:
          'The page a verification link opens when PUBLIC_APP_URL is unset: a button that POSTs the token. Showing it uses nothing up.',
        operationId: 'showVerifyEmailPage',
        querystring: LinkQuery,
        response: pageResponses('A form with the token and a confirm button'),
      },
    },
    async (request, reply) => {
      const { token } = request.query;
      if (!isTokenShaped(token)) throw damagedLink();
      return sendPage(reply, 200, verifyForm(token));
    },
  );

  app.post(
    '/verify-email',
    {
      config: app.rateLimits.auth('/verify-email'),
      schema: {
        tags: ['pages'],
        summary: 'Confirm the email address (form)',
        description:
          'What the confirmation page posts: marks the email verified, as POST /auth/verify-email does, and answers with a page.',
        operationId: 'submitVerifyEmailPage',
        consumes: [FORM],
        body: VerifyForm,
        response: pageResponses('The address is confirmed'),
      },
    },
    async (request, reply) => {
      await auth.verifyEmail(request.body.token, requestContext(request));
      return sendPage(reply, 200, verifyDone());
    },
  );

  app.get(
    '/reset-password',
    {
      schema: {
        tags: ['pages'],
        summary: 'Password reset page',
        description:
          'The page a reset link opens when PUBLIC_APP_URL is unset: a new-password form that POSTs with the token. Showing it uses nothing up.',
        operationId: 'showResetPasswordPage',
        querystring: LinkQuery,
        response: pageResponses('A form for the new password, with the token'),
      },
    },
    async (request, reply) => {
      const { token } = request.query;
      if (!isTokenShaped(token)) throw damagedLink();
      return sendPage(reply, 200, resetForm(token));
    },
  );

  app.post(
    '/reset-password',
    {
      config: app.rateLimits.auth('/reset-password'),
      schema: {
        tags: ['pages'],
        summary: 'Set a new password (form)',
        description:
          'What the reset page posts: sets the password and signs the user out everywhere, as POST /auth/reset-password does. A weak password or two different ones give the form again (400), with the token still unused.',
        operationId: 'submitResetPasswordPage',
        consumes: [FORM],
        body: ResetForm,
        response: pageResponses('The password is changed'),
      },
    },
    async (request, reply) => {
      const { token, newPassword, confirmPassword } = request.body;
      if (newPassword !== confirmPassword) {
        return sendPage(reply, 400, resetForm(token, 'The two passwords are not the same.'));
      }
      try {
        await auth.resetPassword(token, newPassword, requestContext(request));
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'weak_password')) throw error;
        request.log.info({ code: error.code, status: 400 }, 'request rejected');
        return sendPage(reply, 400, resetForm(token, error.detail));
      }
      return sendPage(reply, 200, resetDone());
    },
  );

  app.get(
    '/forgot-password',
    {
      schema: {
        tags: ['pages'],
        summary: 'Forgotten password page',
        description:
          'A form asking for the email address to send a reset link to. Linked from the mails when PUBLIC_APP_URL is unset.',
        operationId: 'showForgotPasswordPage',
        response: pageResponses('A form for the email address'),
      },
    },
    async (_request, reply) => sendPage(reply, 200, forgotForm()),
  );

  app.post(
    '/forgot-password',
    {
      config: app.rateLimits.auth('/forgot-password'),
      preHandler: app.rateLimits.mailsPerEmail,
      schema: {
        tags: ['pages'],
        summary: 'Ask for a reset link (form)',
        description:
          'What the forgotten-password page posts: mails a reset link to a known account, as POST /auth/forgot-password does, with the same page for any address.',
        operationId: 'submitForgotPasswordPage',
        consumes: [FORM],
        body: ForgotForm,
        response: pageResponses('The same answer for any address'),
      },
    },
    async (request, reply) => {
      await auth.forgotPassword(request.body.email, requestContext(request));
      return sendPage(reply, 200, forgotSent(Math.round(app.config.resetTokenTtl / 60)));
    },
  );

  app.get(
    '/confirm-email-change',
    {
      schema: {
        tags: ['pages'],
        summary: 'New email address confirmation page',
        description:
          'The page the link mailed to a new address opens when PUBLIC_APP_URL is unset: a button that POSTs the token. Showing it uses nothing up.',
        operationId: 'showConfirmEmailChangePage',
        querystring: LinkQuery,
        response: pageResponses('A form with the token and a confirm button'),
      },
    },
    async (request, reply) => {
      const { token } = request.query;
      if (!isTokenShaped(token)) throw damagedLink();
      return sendPage(reply, 200, emailChangeForm(token));
    },
  );

  app.post(
    '/confirm-email-change',
    {
      config: app.rateLimits.auth('/confirm-email-change'),
      schema: {
        tags: ['pages'],
        summary: 'Confirm the new email address (form)',
        description:
          'What the confirmation page posts: moves the account to the new address, as POST /users/me/email/confirm does, and answers with a page (409 when another account took the address meanwhile).',
        operationId: 'submitConfirmEmailChangePage',
        consumes: [FORM],
        body: VerifyForm,
        response: pageResponses('The address is changed', 409),
      },
    },
    async (request, reply) => {
      await emailChanges.confirm(request.body.token, requestContext(request));
      return sendPage(reply, 200, emailChangeDone());
    },
  );

  app.get(
    '/revert-email-change',
    {
      schema: {
        tags: ['pages'],
        summary: '"This wasn\'t me" page',
        description:
          'The page the link in an email-change notice opens when PUBLIC_APP_URL is unset: what undoing does, and a button that POSTs the token. Showing it uses nothing up.',
        operationId: 'showRevertEmailChangePage',
        querystring: LinkQuery,
        response: pageResponses('A form with the token and an undo button'),
      },
    },
    async (request, reply) => {
      const { token } = request.query;
      if (!isTokenShaped(token)) throw damagedLink();
      return sendPage(reply, 200, emailRevertForm(token));
    },
  );

  app.post(
    '/revert-email-change',
    {
      config: app.rateLimits.auth('/revert-email-change'),
      schema: {
        tags: ['pages'],
        summary: 'Undo an email change (form)',
        description:
          'What the "this wasn\'t me" page posts: as POST /users/me/email/revert, keeps or restores the old address, signs out every session and mails a reset link.',
        operationId: 'submitRevertEmailChangePage',
        consumes: [FORM],
        body: VerifyForm,
        response: pageResponses('The change is undone', 409),
      },
    },
    async (request, reply) => {
      await emailChanges.revert(request.body.token, requestContext(request));
      return sendPage(reply, 200, emailRevertDone());
    },
  );
};
