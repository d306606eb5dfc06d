import type { AppError } from '../../lib/errors.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../auth/passwords.js';
import { escapeHtml, page } from './html.js';

/**
 * The account pages. Forms post to relative URLs (`verify-email`, not `/verify-email`), so the
 * pages also work behind a proxy that serves the API under a path prefix, and the token that
 * arrived in the link's query string travels on in the POST body only.
 */

const error = (message: string | undefined) =>
  message ? `<p class="error" role="alert">${escapeHtml(message)}</p>\n` : '';

const tokenField = (token: string) =>
  `<input type="hidden" name="token" value="${escapeHtml(token)}">`;

export function verifyForm(token: string): string {
  return page(
    'Confirm your email address',
    `<p>Confirm that this address is yours to activate your Homefront account.</p>
<form method="post" action="verify-email">
${tokenField(token)}
<button type="submit">Confirm my email address</button>
</form>`,
  );
}

export function verifyDone(): string {
  return page(
    'Your email address is confirmed',
    '<p>Your account is active. You can now sign in with your email address and password.</p>',
  );
}

export function resetForm(token: string, problem?: string): string {
  const limits = `minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}"`;
  return page(
    'Choose a new password',
    `${error(problem)}<form method="post" action="reset-password">
${tokenField(token)}
<label for="newPassword">New password</label>
<input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required ${limits}>
<label for="confirmPassword">The same password again</label>
<input id="confirmPassword" name="confirmPassword" type="password" autocomplete="new-password" required ${limits}>
<p class="note">At least ${PASSWORD_MIN_LENGTH} characters; a long phrase is best. Common passwords are refused.</p>
<button type="submit">Set the new password</button>
</form>`,
  );
}

export function resetDone(): string {
  return page(
    'Your password is changed',
    '<p>You have been signed out everywhere. Sign in again with your new password.</p>',
  );
}

export function forgotForm(): string {
  return page(
    'Forgot your password?',
    `<p>Enter the email address of your account and we will send you a link to choose a new password.</p>
<form method="post" action="forgot-password">
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254">
<button type="submit">Send me a link</button>
</form>`,
  );
}

export function forgotSent(minutes: number): string {
  return page(
    'Check your mail',
    `<p>If an account uses this address, a message with a link is on its way. The link works once, within ${minutes} minutes.</p>`,
  );
}

export function emailChangeForm(token: string): string {
  return page(
    'Confirm your new email address',
    `<p>Confirm that this address is yours to move your Homefront account to it.</p>
<form method="post" action="confirm-email-change">
${tokenField(token)}
<button type="submit">Use this address</button>
</form>`,
  );
}

export function emailChangeDone(): string {
  return page('Your email address is changed', '<p>From now on, sign in with this address.</p>');
}

export function emailRevertForm(token: string): string {
  return page(
    'Undo the email change',
    `<p>If you did not ask to change your account's email address, undo it here. Your account keeps this address, every session is signed out, and the password stops working: we mail you a link to choose a new one.</p>
<form method="post" action="revert-email-change">
${tokenField(token)}
<button type="submit">This wasn't me: undo the change</button>
</form>`,
  );
}

export function emailRevertDone(): string {
  return page(
    'The change is undone',
    '<p>Every session is signed out. Check your mail for a link to choose a new password.</p>',
  );
}

/** What a person can do next, by page and problem. */
function nextStep(path: string, problem: AppError): string {
  if (problem.code === 'invalid_token' && path === '/reset-password') {
    return '<p><a href="forgot-password">Ask for a new link</a>.</p>';
  }
  if (problem.code === 'invalid_token' && path === '/verify-email') {
    return '<p>If you have confirmed your address already, you can sign in. Otherwise ask for a new confirmation mail.</p>';
  }
  if (path === '/forgot-password' && problem.statusCode < 500) {
    return '<p><a href="forgot-password">Try again</a>.</p>';
  }
  return '';
}

const TITLES: Partial<Record<AppError['code'], string>> = {
  invalid_token: 'This link no longer works',
  validation_failed: 'This request is not complete',
  weak_password: 'Choose another password',
  rate_limited: 'Too many attempts',
  unsupported_media_type: 'This request is not complete',
  service_unavailable: 'Please try again in a moment',
};

const DETAILS: Partial<Record<AppError['code'], string>> = {
  invalid_token:
    'The link is not valid, has been used already, or has expired. Each link works only once.',
  unsupported_media_type: 'Send the form from this page.',
};

/** The HTML twin of a problem+json answer: same status, a sentence a person can act on. */
export function errorPage(path: string, problem: AppError, requestId: string): string {
  const title = TITLES[problem.code] ?? 'Something went wrong';
  const detail = DETAILS[problem.code] ?? problem.detail;
  return page(
    title,
    `<p>${escapeHtml(detail)}</p>
${nextStep(path, problem)}<p class="note">Reference: ${escapeHtml(requestId)}</p>`,
  );
}
