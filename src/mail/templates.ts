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
  | 'mfa_reset'
  | `marketplace.${string}`
  | 'message.received'
  | 'email_change_confirm'
  | 'email_change_notice'
  | 'email_change_taken'
  | 'email_change_reverted'
  | 'new_sign_in';

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

/**
 * A mail whose point is one link: the paragraphs, the link on its own (a button in the HTML),
 * then `after` (what to do if it was not you). `heading` tops the HTML (the subject by default).
 */
function linkMail(
  subject: string,
  lines: string[],
  action: { label: string; href: string },
  options: { after?: string; heading?: string } = {},
): MailContent {
  const after = options.after === undefined ? [] : [options.after];
  return {
    subject,
    text: `${[...lines, action.href, ...after].join('\n\n')}\n`,
    html: layout(options.heading ?? subject, [...lines, ...after], action),
    link: action.href,
  };
}

/**
 * A mail of paragraphs only, any address written into them; `button` adds one to the HTML alone.
 * `heading` tops the HTML (the subject by default).
 */
function noticeMail(
  subject: string,
  lines: string[],
  options: { heading?: string; button?: { label: string; href: string } } = {},
): MailContent {
  return {
    subject,
    text: `${lines.join('\n\n')}\n`,
    html: layout(options.heading ?? subject, lines, options.button),
  };
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
  return linkMail(
    'Confirm your email address',
    lines,
    { label: 'Confirm email', href: link },
    { after: 'If you did not sign up, ignore this message.' },
  );
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
  return noticeMail('You already have a Homefront account', lines, {
    heading: 'You already have an account',
    button:
      pages === 'frontend'
        ? { label: 'Sign in', href: login }
        : { label: 'Reset password', href: reset },
  });
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
  return linkMail(
    'Reset your password',
    lines,
    { label: 'Reset password', href: link },
    { after: 'If you did not ask for this, ignore this message; your password has not changed.' },
  );
}

export function passwordChangedMail(appUrl: string, name: string): MailContent {
  const reset = `${appUrl}/forgot-password`;
  const lines = [
    `Hello ${name},`,
    'The password of your Homefront account was just changed, and your other sessions were signed out.',
    `If this was not you, reset your password now at ${reset} and contact support.`,
  ];
  return noticeMail('Your password was changed', lines);
}

/**
 * The marketplace's mails, one text per transition that mails (src/modules/marketplace/
 * transitions.ts): what happened, to whom, and where to look. A provider's mail never carries
 * the address before a booking exists.
 */
const MARKETPLACE_TEXTS: Record<string, { subject: string; line: string }> = {
  'request.expire': {
    subject: 'Your job request expired',
    line: 'Your job request "{title}" expired without an accepted quote.',
  },
  'quote.submit': {
    subject: 'New quote on your job request',
    line: 'You have a new quote on your job request "{title}".',
  },
  'quote.withdraw': {
    subject: 'A quote was withdrawn',
    line: 'A quote on your job request "{title}" was withdrawn.',
  },
  'quote.decline': {
    subject: 'Your quote was not accepted',
    line: 'Your quote on the job request "{title}" was declined: the request was booked with someone else or closed.',
  },
  'quote.expire': {
    subject: 'Your quote expired',
    line: 'Your quote on the job request "{title}" reached its validity date and expired.',
  },
  'booking.create': {
    subject: 'Your quote was accepted',
    line: 'Your quote on "{title}" was accepted: the job is booked. The address and contact details are in the booking.',
  },
  'booking.start': {
    subject: 'Work has started',
    line: 'The provider started the job "{title}".',
  },
  'booking.complete': {
    subject: 'The job is complete',
    line: 'The provider marked the job "{title}" complete. Confirm it, or report a problem within 7 days; after that it is confirmed automatically.',
  },
  'booking.confirm': {
    subject: 'The job was confirmed',
    line: 'The homeowner confirmed the job "{title}".',
  },
  'booking.autoconfirm': {
    subject: 'The job was confirmed',
    line: 'The job "{title}" was confirmed automatically: the 7-day window to report a problem has passed.',
  },
  'booking.cancel': {
    subject: 'A booking was cancelled',
    line: 'The booking for "{title}" was cancelled.',
  },
  'booking.dispute': {
    subject: 'A completed job was disputed',
    line: 'The homeowner reported a problem with the job "{title}". An administrator will look into it.',
  },
  'booking.resolve': {
    subject: 'The dispute was resolved',
    line: 'An administrator resolved the dispute about the job "{title}".',
  },
};

export const MARKETPLACE_MAILS = Object.keys(MARKETPLACE_TEXTS);

/** The subject and sentence of a transition's mail: also the title and body of its notification. */
export function marketplaceSummary(transition: string, title: string) {
  const text = MARKETPLACE_TEXTS[transition];
  if (!text) throw new Error(`no mail text for ${transition}`);
  return { subject: text.subject, line: text.line.replace('{title}', title) };
}

export function marketplaceMail(
  transition: string,
  appUrl: string,
  name: string,
  facts: { title: string; path: string; note?: string | null },
): MailContent {
  const text = MARKETPLACE_TEXTS[transition];
  if (!text) throw new Error(`no mail text for ${transition}`);
  const link = `${appUrl}${facts.path}`;
  const lines = [
    `Hello ${name},`,
    text.line.replace('{title}', facts.title),
    ...(facts.note ? [`Note: ${facts.note}`] : []),
  ];
  return linkMail(text.subject, lines, { label: 'Open in Homefront', href: link });
}

/**
 * A new message, to a user who chose to be mailed about messages: who wrote and about what, never
 * the text itself (it stays in the app, behind sign-in).
 */
export function messageMail(
  appUrl: string,
  name: string,
  facts: { from: string; title: string; path: string },
): MailContent {
  const link = `${appUrl}${facts.path}`;
  const lines = [`Hello ${name},`, `${facts.from} sent you a message about "${facts.title}".`];
  return linkMail('New message', lines, { label: 'Open in Homefront', href: link });
}

export function mfaResetMail(appUrl: string, name: string): MailContent {
  const reset = `${appUrl}/forgot-password`;
  const lines = [
    `Hello ${name},`,
    'An administrator has just turned off two-factor sign-in for your Homefront account: your authenticator and recovery codes no longer work, and you can sign in with your password alone.',
    'Sign in and set up two-factor sign-in again under your account settings.',
    `If you did not ask for this, reset your password now at ${reset} and contact support.`,
  ];
  return noticeMail('Two-factor sign-in was reset', lines);
}

/** To the new address: the link that makes it the account's address. */
export function emailChangeConfirmMail(
  appUrl: string,
  name: string,
  token: string,
  hours: number,
): MailContent {
  const link = `${appUrl}/confirm-email-change?token=${token}`;
  const lines = [
    `Hello ${name},`,
    'You asked to use this address for your Homefront account. Confirm it to finish the change; until then your account keeps its current address.',
    `This link works once and expires in ${hours} hours.`,
  ];
  return linkMail(
    'Confirm your new email address',
    lines,
    { label: 'Confirm new address', href: link },
    { after: 'If you did not ask for this, ignore this message; nothing changes.' },
  );
}

/** To the old address: what is happening, and the link that undoes it. */
export function emailChangeNoticeMail(
  appUrl: string,
  name: string,
  newEmail: string,
  token: string,
  days: number,
): MailContent {
  const link = `${appUrl}/revert-email-change?token=${token}`;
  const lines = [
    `Hello ${name},`,
    `Someone signed in to your Homefront account asked to change its email address to ${newEmail}. The change takes effect once that address confirms it.`,
    `If this wasn't you, open the link below within ${days} days: it keeps (or restores) this address, signs out every session and asks you to choose a new password.`,
  ];
  return linkMail(
    'Your email address is being changed',
    lines,
    { label: "This wasn't me", href: link },
    { after: 'If it was you, there is nothing to do.' },
  );
}

/** To an address that already has an account: no link, so the requester learns nothing. */
export function emailChangeTakenMail(name: string): MailContent {
  const lines = [
    `Hello ${name},`,
    'Someone asked to move another Homefront account to this email address. It already belongs to your account, so nothing was changed.',
    'If this was you, sign in with this address instead. Otherwise you can ignore this message.',
  ];
  return noticeMail('Someone tried to use your email address', lines);
}

/** To the restored address after "this wasn't me": the reset link the account now needs. */
export function emailChangeRevertedMail(
  appUrl: string,
  name: string,
  token: string,
  minutes: number,
): MailContent {
  const link = `${appUrl}/reset-password?token=${token}`;
  const lines = [
    `Hello ${name},`,
    'The email change was undone: your account keeps this address, every session was signed out, the old password no longer works, and passkeys and two-factor authenticators were removed (set them up again after signing in).',
    `Choose a new password with this link; it works once and expires in ${minutes} minutes. Later, use "forgot password" for a new one.`,
  ];
  return linkMail(
    'Your account is secured: choose a new password',
    lines,
    { label: 'Choose a new password', href: link },
    { heading: 'Choose a new password' },
  );
}

/** A sign-in from a browser and network not seen on the account for 90 days. */
export function newSignInMail(
  appUrl: string,
  name: string,
  sign: { at: Date; method: string; browser: string; network: string },
): MailContent {
  const reset = `${appUrl}/forgot-password`;
  const when = `${sign.at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const lines = [
    `Hello ${name},`,
    'There was a new sign-in to your Homefront account from a browser or network it has not been used from lately.',
    `When: ${when}. How: ${sign.method}. Browser: ${sign.browser}. Network: ${sign.network}.`,
    'If this was you, there is nothing to do.',
    `If it was not, reset your password now at ${reset}, then sign out everywhere from your account settings.`,
    'You can turn these notices off in your notification settings.',
  ];
  return noticeMail('New sign-in to your account', lines);
}
