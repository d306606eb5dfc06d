import { type Static, Type } from 'typebox';
import { PageQueryFields, Strict, Timestamp, Uuid } from '../../lib/schemas.js';
import { Nullable } from '../../lib/text.js';
import { KIND_NAMES, MAIL_DEFAULTS, MAILABLE_KINDS, NOTIFICATION_KINDS } from './kinds.js';

export const TITLE_MAX = 200;
export const BODY_MAX = 1000;
export const LINK_MAX = 300;

const kindDescriptions = KIND_NAMES.map((kind) => `\`${kind}\`: ${NOTIFICATION_KINDS[kind]}`).join(
  '; ',
);

export const NotificationKind = Type.Enum(KIND_NAMES, {
  title: 'NotificationKind',
  description: `What the notification reports. ${kindDescriptions}.`,
});

export const Notification = Type.Object(
  {
    id: Type.String({
      format: 'uuid',
      description: 'Time-ordered (UUID v7); the `id:` of the event on the stream',
    }),
    kind: NotificationKind,
    title: Type.String({ maxLength: TITLE_MAX }),
    body: Type.String({ maxLength: BODY_MAX }),
    link: Nullable(
      Type.String({
        maxLength: LINK_MAX,
        description: 'The API path of what it is about, e.g. `/bookings/{id}`',
      }),
    ),
    readAt: Nullable(Timestamp),
    createdAt: Timestamp,
  },
  { title: 'Notification', description: 'Something that happened that the user should know' },
);

export const NotificationListQuery = Type.Object(
  {
    ...PageQueryFields,
    unread: Type.Optional(
      Type.Boolean({ description: 'true: only the notifications not marked read yet' }),
    ),
  },
  { additionalProperties: false },
);
export type NotificationListQuery = Static<typeof NotificationListQuery>;

export const MarkReadInput = Type.Object(
  {
    ids: Type.Optional(
      Type.Array(Uuid, {
        minItems: 1,
        maxItems: 100,
        uniqueItems: true,
        description: 'Mark these (of the caller’s own; other ids are ignored)',
      }),
    ),
    all: Type.Optional(
      Type.Literal(true, { description: 'Mark every unread notification of the caller' }),
    ),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    title: 'MarkNotificationsRead',
    description: 'Either `ids` or `all: true`, not both',
    examples: [{ all: true }],
  },
);
export type MarkReadInput = Static<typeof MarkReadInput>;

export const MarkReadResult = Type.Object(
  {
    marked: Type.Integer({
      minimum: 0,
      description: 'How many notifications changed from unread to read',
    }),
  },
  { title: 'NotificationsMarked' },
);

const mailFlags = Object.fromEntries(
  MAILABLE_KINDS.map((kind) => [
    kind,
    Type.Boolean({
      description: `${NOTIFICATION_KINDS[kind]} (default ${MAIL_DEFAULTS[kind as keyof typeof MAIL_DEFAULTS]})`,
    }),
  ]),
);

export const NotificationSettings = Type.Object(
  {
    mail: Type.Object(mailFlags, {
      description: 'For each kind a user may choose: does it also send mail',
    }),
    alwaysMailed: Type.Array(NotificationKind, {
      description:
        'Security kinds: their mails (and the verification and reset mails) are always sent',
    }),
  },
  { title: 'NotificationSettings' },
);

export const NotificationSettingsInput = Strict(
  {
    mail: Type.Partial(Type.Object(mailFlags, { additionalProperties: false }), {
      additionalProperties: false,
      description: 'The choice for each kind; a kind left out goes back to its default',
    }),
  },
  { title: 'NotificationSettingsInput' },
);
export type NotificationSettingsInput = Static<typeof NotificationSettingsInput>;

export const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(
    Type.String({
      format: 'uuid',
      maxLength: 36,
      description:
        'The id of the last event received: the stream first replays every notification written after it',
    }),
  ),
});
