import { expect } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import { type ReceivedMail, tokenFrom } from '../helpers/mailbox.js';

/** Shared steps of the email-change tests (test/users/email-change.*, one-time tokens). */

export const CONFIRM_SUBJECT = 'Confirm your new email address';
export const NOTICE_SUBJECT = 'Your email address is being changed';
export const TAKEN_SUBJECT = 'Someone tried to use your email address';
export const REVERTED_SUBJECT = 'Your account is secured: choose a new password';

/** The next mail to `to` with this subject; earlier mails to that address are passed over. */
export async function mailTo(t: TestContext, to: string, subject: string): Promise<ReceivedMail> {
  for (;;) {
    const mail = await t.mailbox.next(to);
    if (mail.subject === subject) return mail;
  }
}

export function requestEmailChange(
  t: TestContext,
  accessToken: string,
  password: string,
  newEmail: string,
) {
  return t.app.inject({
    method: 'POST',
    url: '/users/me/email',
    headers: { authorization: `Bearer ${accessToken}` },
    payload: { password, newEmail },
  });
}

/** Requests a change and returns the links: confirm (none when the address is taken) and revert. */
export async function changeLinks(
  t: TestContext,
  user: { email: string; password: string; accessToken: string },
  newEmail: string,
): Promise<{ confirm: string; revert: string }> {
  const res = await requestEmailChange(t, user.accessToken, user.password, newEmail);
  expect(res.statusCode, res.body).toBe(202);
  const notice = await mailTo(t, user.email, NOTICE_SUBJECT);
  const confirm = await mailTo(t, newEmail, CONFIRM_SUBJECT);
  return { confirm: tokenFrom(confirm), revert: tokenFrom(notice) };
}

export const confirmChange = (t: TestContext, token: string) =>
  t.app.inject({ method: 'POST', url: '/users/me/email/confirm', payload: { token } });

export const revertChange = (t: TestContext, token: string) =>
  t.app.inject({ method: 'POST', url: '/users/me/email/revert', payload: { token } });
