import { type Static, Type } from 'typebox';
import { BOOKING_STATES } from '../../db/schema.js';
import { PageCursor, PageQueryFields, Timestamp, Uuid } from '../../lib/schemas.js';
import { Nullable, Paragraph } from '../../lib/text.js';

/** The longest message, in UTF-16 code units (what JSON Schema's maxLength counts). */
export const MESSAGE_MAX = 4000;

const ThreadParty = Type.Object(
  {
    id: Nullable(Type.String({ format: 'uuid', description: 'Null once the account was deleted' })),
    name: Type.String({
      description: 'The party’s display name, or "former user" once the account was deleted',
    }),
  },
  { title: 'ThreadParty', description: 'A party of a thread: a name, never contact details' },
);

export const MessageThread = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    requestId: Type.String({ format: 'uuid', description: 'The job request it is about' }),
    requestTitle: Type.String(),
    role: Nullable(
      Type.Enum(['homeowner', 'provider'], {
        description: 'The caller’s side of the thread; null for an administrator',
      }),
    ),
    homeowner: ThreadParty,
    provider: ThreadParty,
    booking: Nullable(
      Type.Object(
        { id: Type.String({ format: 'uuid' }), state: Type.Enum(BOOKING_STATES) },
        { description: 'The booking of this request with this provider, once there is one' },
      ),
    ),
    lastActivityAt: Timestamp,
    unreadCount: Type.Integer({
      minimum: 0,
      description: 'Messages of the other party after the caller’s read marker',
    }),
    createdAt: Timestamp,
  },
  {
    title: 'MessageThread',
    description:
      'A conversation between a homeowner and a provider about one job request. It never carries an address, email or phone.',
  },
);
export type MessageThreadView = Static<typeof MessageThread>;

export const ThreadMessage = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'Time-ordered (UUID v7)' }),
    threadId: Type.String({ format: 'uuid' }),
    sender: ThreadParty,
    fromMe: Type.Boolean({ description: 'Whether the caller sent it' }),
    text: Type.String({ maxLength: MESSAGE_MAX }),
    createdAt: Timestamp,
  },
  { title: 'ThreadMessage', description: 'One message of a thread' },
);
export type ThreadMessageView = Static<typeof ThreadMessage>;

export const MessageInput = Type.Object(
  {
    text: Paragraph(
      MESSAGE_MAX,
      'The message: 1–4000 characters, line breaks allowed, no other control characters; stored as sent (trimmed), never rewritten',
    ),
  },
  { additionalProperties: false, title: 'MessageInput' },
);

export const MarkThreadReadInput = Type.Object(
  {
    upToMessageId: {
      ...Uuid,
      description: 'A message of this thread: it and every older one are read',
    },
  },
  { additionalProperties: false, title: 'MarkThreadReadInput' },
);

/** The thread list pages on (lastActivityAt, id): its cursor carries both, so its example differs. */
export const ThreadListQuery = Type.Object(
  {
    ...PageQueryFields,
    cursor: PageCursor(
      'MjAyNi0xMi0wMVQwOTozMDowMC4wMDBaXzAxOWFlOGYyLTM0NTYtNzg5YS1iY2RlLWYwMTIzNDU2Nzg5YQ',
    ),
  },
  { additionalProperties: false },
);
export const MessageListQuery = Type.Object(PageQueryFields, { additionalProperties: false });
