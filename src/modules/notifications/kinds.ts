/**
 * Every kind of notification, what it reports, and whether it mails by default. Other modules
 * name one of these when they call `NotificationsService.notify`; adding a kind is a line here
 * and a line in docs/notifications.md.
 */
export const NOTIFICATION_KINDS = {
  'request.updated': 'A job request you take part in changed state (expired, cancelled, booked)',
  'quote.received': 'A provider sent a quote on your job request',
  'quote.updated': 'Your quote was accepted, declined, withdrawn or expired',
  'booking.updated':
    'A booking you take part in moved (started, completed, confirmed, cancelled, disputed, resolved)',
  'message.received': 'A new message in one of your threads',
  'review.received': 'A review about you was published',
  'account.new_sign_in':
    'A sign-in to your account from a browser and network not seen on it for 90 days',
  'security.password_changed': 'Your password was changed; every other session was signed out',
  'security.password_reset': 'Your password was reset by email link; every session was signed out',
  'security.signed_out_everywhere': 'Every session of your account was signed out',
} as const;

export type NotificationKind = keyof typeof NOTIFICATION_KINDS;
export const KIND_NAMES = Object.keys(NOTIFICATION_KINDS) as NotificationKind[];

/** Security kinds always mail (their mails are sent by the flows themselves); no setting turns them off. */
export const isSecurityKind = (kind: NotificationKind) => kind.startsWith('security.');

/** The kinds a user may choose to mail or not. */
export const MAILABLE_KINDS = KIND_NAMES.filter((kind) => !isSecurityKind(kind));
export type MailableKind = Exclude<NotificationKind, `security.${string}`>;

/** Mail for everything but messages, which arrive too often to mail each one by default. */
export const MAIL_DEFAULTS: Record<MailableKind, boolean> = {
  'request.updated': true,
  'quote.received': true,
  'quote.updated': true,
  'booking.updated': true,
  'message.received': false,
  'review.received': true,
  'account.new_sign_in': true,
};
