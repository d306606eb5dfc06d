import { type Static, Type } from 'typebox';
import {
  BOOKING_STATES,
  PARTIES,
  QUOTE_STATES,
  REQUEST_STATES,
  SERVICE_CATEGORIES,
  TIMES_OF_DAY,
} from '../../db/schema.js';
import { PageQueryFields, Timestamp, Uuid } from '../../lib/schemas.js';
import { Line, Nullable, Paragraph, PostalCode } from '../../lib/text.js';
import { CURRENCY_CODES } from '../services/currencies.js';
import { PRICE_CENTS_MAX } from '../services/schemas.js';

const Category = Type.Enum(SERVICE_CATEGORIES);
const Currency = Type.Enum(CURRENCY_CODES, { description: 'ISO 4217 code, upper case' });
const Cents = Type.Integer({
  minimum: 0,
  maximum: PRICE_CENTS_MAX,
  description: 'Minor units of `currency`',
});
const CalendarDate = Type.String({
  format: 'date',
  maxLength: 10,
  description: 'A calendar date, YYYY-MM-DD',
  examples: ['2030-01-15'],
});
const Instant = Type.String({
  format: 'date-time',
  maxLength: 40,
  description: 'An instant, RFC 3339 with an offset',
  examples: ['2030-01-20T09:00:00Z'],
});
const Reason = (description: string) => Paragraph(2000, description);

/** Opening a job request. */
const requestFields = {
  propertyId: Uuid,
  category: Category,
  title: Line(120),
  description: Paragraph(5000),
  earliestDate: CalendarDate,
  latestDate: CalendarDate,
  timeOfDay: Type.Optional(Nullable(Type.Enum(TIMES_OF_DAY))),
  budgetCents: Type.Optional(Nullable(Cents)),
  currency: Type.Optional(Nullable(Currency)),
};

export const JobRequestInput = Type.Object(
  {
    ...requestFields,
    serviceId: Type.Optional(
      Nullable(
        Type.String({
          format: 'uuid',
          maxLength: 36,
          description:
            'A direct request to the provider of this catalog service; it must be active, in the category, and serve the property’s postal code',
        }),
      ),
    ),
  },
  {
    additionalProperties: false,
    title: 'JobRequestInput',
    description:
      'A job on one of the caller’s properties. `budgetCents` and `currency` come together or not at all; `earliestDate` is today or later and not after `latestDate`.',
  },
);
export type JobRequestInput = Static<typeof JobRequestInput>;

const { propertyId: _property, category: _category, ...editable } = requestFields;
export const JobRequestPatch = Type.Partial(Type.Object(editable), {
  additionalProperties: false,
  minProperties: 1,
  title: 'JobRequestPatch',
  description: 'Any of the fields a homeowner wrote; allowed only while the request has no quote',
});
export type JobRequestPatch = Static<typeof JobRequestPatch>;

const windowAndBudget = {
  earliestDate: Type.String({ format: 'date' }),
  latestDate: Type.String({ format: 'date' }),
  timeOfDay: Nullable(Type.Enum(TIMES_OF_DAY)),
  budgetCents: Nullable(Type.Integer()),
  currency: Nullable(Type.String({ description: 'ISO 4217' })),
};

export const JobRequest = Type.Object(
  {
    id: Uuid,
    propertyId: Nullable(Uuid),
    serviceId: Nullable(Uuid),
    category: Category,
    title: Type.String(),
    description: Type.String(),
    postalCode: Type.String(),
    city: Type.String(),
    ...windowAndBudget,
    state: Type.Enum(REQUEST_STATES),
    cancelReason: Nullable(Type.String()),
    expiresAt: Timestamp,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'JobRequest', description: 'A homeowner’s job request, as its owner sees it' },
);

/** What a provider sees before a booking: the place only to the postal code and the city. */
export const OpenJobRequest = Type.Object(
  {
    id: Uuid,
    category: Category,
    title: Type.String(),
    description: Type.String(),
    postalCode: Type.String(),
    city: Type.String(),
    ...windowAndBudget,
    direct: Type.Boolean({ description: 'Addressed to the caller alone, through one service' }),
    expiresAt: Timestamp,
    createdAt: Timestamp,
  },
  {
    title: 'OpenJobRequest',
    description:
      'An open request a provider can serve: no street address and no homeowner details before a booking',
  },
);

export const CancelInput = Type.Object(
  { reason: Reason('Why; the other party reads it') },
  { additionalProperties: false, title: 'CancelInput' },
);
export const RequestCancelInput = Type.Object(
  { reason: Type.Optional(Reason('Why the request is withdrawn')) },
  { additionalProperties: false, title: 'RequestCancelInput' },
);
export const DisputeInput = Type.Object(
  { reason: Reason('What went wrong') },
  { additionalProperties: false, title: 'DisputeInput' },
);
export const ResolveInput = Type.Object(
  { resolution: Reason('How the dispute was settled; both parties read it') },
  { additionalProperties: false, title: 'ResolveInput' },
);

export const QuoteInput = Type.Object(
  {
    serviceId: Type.String({
      format: 'uuid',
      maxLength: 36,
      description:
        'The caller’s active catalog service the quote is for: in the request’s category, serving its postal code',
    }),
    priceCents: Cents,
    currency: Currency,
    message: Paragraph(2000),
    validUntil: Instant,
    proposedStart: Instant,
  },
  {
    additionalProperties: false,
    title: 'QuoteInput',
    description:
      'A price for the job. `validUntil` is in the future, within 90 days; `proposedStart` in the future, within a year. A second quote from the same provider replaces the live one.',
  },
);
export type QuoteInput = Static<typeof QuoteInput>;

const Party = Type.Object({ id: Uuid, fullName: Type.String() });

export const Quote = Type.Object(
  {
    id: Uuid,
    requestId: Uuid,
    state: Type.Enum(QUOTE_STATES),
    priceCents: Type.Integer(),
    currency: Type.String({ description: 'ISO 4217' }),
    message: Type.String(),
    validUntil: Timestamp,
    proposedStart: Timestamp,
    provider: Nullable(Party),
    service: Nullable(Type.Object({ id: Uuid, title: Type.String() })),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    title: 'Quote',
    description: 'A provider’s price for a request, with who offers it and for which service',
  },
);

const Contact = Type.Object(
  {
    id: Uuid,
    fullName: Type.String(),
    email: Type.String(),
    phone: Nullable(Type.String()),
  },
  { title: 'BookingContact', description: 'A party’s contact details, shown once booked' },
);

export const Booking = Type.Object(
  {
    id: Uuid,
    requestId: Uuid,
    quoteId: Uuid,
    state: Type.Enum(BOOKING_STATES),
    title: Type.String(),
    description: Type.String(),
    category: Category,
    priceCents: Type.Integer(),
    currency: Type.String({ description: 'ISO 4217' }),
    proposedStart: Timestamp,
    address: Nullable(
      Type.Object(
        {
          addressLine1: Type.String(),
          addressLine2: Nullable(Type.String()),
          city: Type.String(),
          region: Type.String(),
          postalCode: Type.String(),
          country: Type.String(),
        },
        {
          title: 'BookingAddress',
          description: 'Where the job is; null once the property is deleted',
        },
      ),
    ),
    homeowner: Nullable(Contact),
    provider: Nullable(Contact),
    cancelledBy: Nullable(Type.Enum(PARTIES)),
    cancelReason: Nullable(Type.String()),
    lateCancellation: Type.Boolean({
      description: 'Cancelled less than 24 hours before the proposed start',
    }),
    completedAt: Nullable(Timestamp),
    disputeReason: Nullable(Type.String()),
    resolution: Nullable(Type.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    title: 'Booking',
    description:
      'An accepted quote and its lifecycle; both parties see the address and each other’s contact details',
  },
);

export const RequestListQuery = Type.Object(PageQueryFields, { additionalProperties: false });
export const FeedQuery = Type.Object(
  { category: Type.Optional(Category), postalCode: Type.Optional(PostalCode), ...PageQueryFields },
  { additionalProperties: false },
);
export type FeedQuery = Static<typeof FeedQuery>;
export const BookingListQuery = Type.Object(
  { state: Type.Optional(Type.Enum(BOOKING_STATES)), ...PageQueryFields },
  { additionalProperties: false },
);
export const QuoteParams = Type.Object(
  { id: Uuid, quoteId: Uuid },
  { additionalProperties: false },
);
