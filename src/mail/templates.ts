/** One template per mail, each with a plain-text and an HTML body. Links carry the only secret. */

export interface MailContent {
  subject: string;
  text: string;
  html: string;
  /** The action link, logged in outbox mode so a developer can follow it from the terminal. */
  link?: string;
}

export type MailTemplate =
  | 'verify_email'
  | 'already_registered'
  | 'reset_password'
  | 'password_changed'
  | 'mfa_reset';

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function layout(
  title: string,
  paragraphs: string[],
  action?: { label: string; href: string },
): string {
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  const button = action
    ? `<p><a href="${escapeHtml(action.href)}" style="padding:10px 16px;background:#1d4ed8;color:#fff;text-decoration:none;border-radius:4px">${escapeHtml(action.label)}</a></p>
<p style="color:#555;font-size:12px">Or paste this link into your browser: ${escapeHtml(action.href)}</p>`
    : '';
  return `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">
<h2>${escapeHtml(title)}</h2>
${body}
${button}
<p style="color:#555;font-size:12px">Homefront</p>
</body></html>`;
}

export function verifyEmailMail(
  appUrl: string,
  name: string,
  token: string,
  hours: number,
): MailContent {
  const link = `${appUrl}/verify-email?token=${token}`;
  const lines = [
    `Hello ${name},`,
    'Welcome to Homefront. Please confirm your email address to activate your account.',
    `This link works once and expires in ${hours} hours.`,
  ];
  return {
    subject: 'Confirm your email address',
    text: `${lines.join('\n\n')}\n\n${link}\n\nIf you did not sign up, ignore this message.\n`,
    html: layout(
      'Confirm your email address',
      [...lines, 'If you did not sign up, ignore this message.'],
      {
        label: 'Confirm email',
        href: link,
      },
    ),
    link,
  };
}

/**
 * A front end has a sign-in page; the API alone has none (it answers POST /auth/login), so
 * without one the mail offers only the reset page, which the API serves itself.
 */
export function alreadyRegisteredMail(
  appUrl: string,
  name: string,
  pages: 'frontend' | 'api',
): MailContent {
  const login = `${appUrl}/login`;
  const reset = `${appUrl}/forgot-password`;
  const lines = [
    `Hello ${name},`,
    'Someone (perhaps you) tried to create a Homefront account with this email address, but you already have one.',
    pages === 'frontend'
      ? `Sign in at ${login}, or if you forgot your password, reset it at ${reset}.`
      : `Sign in with this address and your password, or if you forgot your password, reset it at ${reset}.`,
    'If this was not you, you can ignore this message; your account has not changed.',
  ];
  return {
    subject: 'You already have a Homefront account',
    text: `${lines.join('\n\n')}\n`,
    html: layout(
      'You already have an account',
      lines,
      pages === 'frontend'
        ? { label: 'Sign in', href: login }
        : { label: 'Reset password', href: reset },
    ),
  };
}

export function resetPasswordMail(
  appUrl: string,
  name: string,
  token: string,
  minutes: number,
): MailContent {
  const link = `${appUrl}/reset-password?token=${token}`;
  const lines = [
    `Hello ${name},`,
    'We received a request to reset your Homefront password.',
    `This link works once and expires in ${minutes} minutes. Resetting signs you out everywhere.`,
  ];
  return {
    subject: 'Reset your password',
    text: `${lines.join('\n\n')}\n\n${link}\n\nIf you did not ask for this, ignore this message; your password has not changed.\n`,
    html: layout(
      'Reset your password',
      [
        ...lines,
        'If you did not ask for this, ignore this message; your password has not changed.',
      ],
      { label: 'Reset password', href: link },
    ),
    link,
  };
}

export function passwordChangedMail(appUrl: string, name: string): MailContent {
  const reset = `${appUrl}/forgot-password`;
  const lines = [
    `Hello ${name},`,
    'The password of your Homefront account was just changed, and your other sessions were signed out.',
    `If this was not you, reset your password now at ${reset} and contact support.`,
  ];
  return {
    subject: 'Your password was changed',
    text: `${lines.join('\n\n')}\n`,
    html: layout('Your password was changed', lines),
  };
}

export function mfaResetMail(appUrl: string, name: string): MailContent {
  const reset = `${appUrl}/forgot-password`;
  const lines = [
    `Hello ${name},`,
    'An administrator has just turned off two-factor sign-in for your Homefront account: your authenticator and recovery codes no longer work, and you can sign in with your password alone.',
    'Sign in and set up two-factor sign-in again under your account settings.',
    `If you did not ask for this, reset your password now at ${reset} and contact support.`,
  ];
  return {
    subject: 'Two-factor sign-in was reset',
    text: `${lines.join('\n\n')}\n`,
    html: layout('Two-factor sign-in was reset', lines),
  };
}
