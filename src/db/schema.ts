import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { uuidv7 } from 'uuidv7';

/** The whole data model. Migrations under ./migrations are generated from this file. */

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Base mixins: time-ordered UUID v7 keys and timestamps kept current on update. */
const id = () =>
  uuid('id')
    .primaryKey()
    .$defaultFn(() => uuidv7());
const timestamps = {
  createdAt: tstz('created_at').notNull().defaultNow(),
  updatedAt: tstz('updated_at')
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date()),
};
/**
 * The row's version, for conditional requests (ETag, If-Match; kernel/conditional.ts): 1 when
 * inserted, one more on every update, in the UPDATE statement itself ($onUpdate adds
 * `version = version + 1` to each `db.update(...)`), so a write conditional on it is one
 * compare-and-set. `updated_at` cannot serve: two writes can share a timestamp, and it comes from
 * the process's clock.
 */
const version = {
  version: integer('version')
    .notNull()
    .default(1)
    .$onUpdate(() => sql`"version" + 1`),
};

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

export const users = pgTable(
  'users',
  {
    id: id(),
    /** Stored normalised (trimmed, lower-cased); the unique index makes it one account per email. */
    email: text('email').notNull(),
    fullName: text('full_name').notNull(),
    phone: text('phone'),
    passwordHash: text('password_hash').notNull(),
    emailVerified: boolean('email_verified').notNull().default(false),
    isActive: boolean('is_active').notNull().default(true),
    ...timestamps,
    ...version,
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    check('users_email_normalised', sql`${t.email} = lower(btrim(${t.email}))`),
  ],
);

export const roles = pgTable('roles', {
  name: text('name').primaryKey(),
  description: text('description').notNull(),
});

export const permissions = pgTable('permissions', {
  name: text('name').primaryKey(),
  description: text('description').notNull(),
});

export const rolePermissions = pgTable(
  'role_permissions',
  {
    roleName: text('role_name')
      .notNull()
      .references(() => roles.name, { onDelete: 'cascade' }),
    permissionName: text('permission_name')
      .notNull()
      .references(() => permissions.name, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.roleName, t.permissionName] })],
);

export const userRoles = pgTable(
  'user_roles',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    roleName: text('role_name')
      .notNull()
      .references(() => roles.name),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.roleName] }),
    index('user_roles_role_idx').on(t.roleName, t.userId),
  ],
);

/**
 * Each user's roles and the union of their permissions, as the per-request auth query reads
 * them: one primary-key lookup instead of a scan of user_roles joined to role_permissions.
 * Derived data, always current: triggers on user_roles and role_permissions rewrite a user's row
 * in the same transaction as the grant or revocation (migration 0005_user_grants_sync), so a
 * change still takes effect on the very next request. The app only reads it.
 */
export const userGrants = pgTable('user_grants', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  roles: text('roles').array().notNull().default(sql`'{}'`),
  permissions: text('permissions').array().notNull().default(sql`'{}'`),
});

export const sessions = pgTable(
  'sessions',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    userAgent: text('user_agent'),
    ip: text('ip'),
    createdAt: tstz('created_at').notNull().defaultNow(),
    lastUsedAt: tstz('last_used_at').notNull().defaultNow(),
    /** Absolute lifetime: no refresh extends a session past this. */
    expiresAt: tstz('expires_at').notNull(),
    revokedAt: tstz('revoked_at'),
    revokedReason: text('revoked_reason'),
    /**
     * The authenticator assurance level the session reached (1: password; 2: a second factor or
     * a passkey), the methods used (RFC 8176 `amr` values: pwd, otp, hwk…) and when aal2 was last
     * proven. Refresh keeps them; step-up raises them; the access token repeats them.
     */
    aal: smallint('aal').notNull().default(1),
    amr: text('amr').array().notNull().default(sql`'{pwd}'`),
    aal2At: tstz('aal2_at'),
  },
  (t) => [
    index('sessions_user_idx').on(t.userId),
    check('sessions_aal_range', sql`${t.aal} in (1, 2)`),
    // Retention: when the session died (least() skips a null revokedAt).
    index('sessions_ended_idx').on(sql`least(${t.expiresAt}, ${t.revokedAt})`),
  ],
);

/**
 * Every refresh token a session has issued. Only the current one (usedAt null) may be exchanged;
 * presenting a used one is replay, and revokes the session.
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: id(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    usedAt: tstz('used_at'),
  },
  (t) => [
    uniqueIndex('refresh_tokens_hash_key').on(t.tokenHash),
    index('refresh_tokens_session_idx').on(t.sessionId),
    index('refresh_tokens_used_idx').on(t.usedAt).where(sql`${t.usedAt} is not null`),
  ],
);

export type OneTimeTokenPurpose =
  | 'verify_email'
  | 'reset_password'
  | 'confirm_email_change'
  | 'revert_email_change';

/**
 * A request to change an account's address (issue 18): the address changes only when the link
 * mailed to `newEmail` is followed (`confirmedAt`); the notice to `oldEmail` carries a link that
 * undoes it (`revertedAt`). Both links are one-time tokens pointing here.
 */
export const emailChanges = pgTable(
  'email_changes',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    oldEmail: text('old_email').notNull(),
    newEmail: text('new_email').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    confirmedAt: tstz('confirmed_at'),
    revertedAt: tstz('reverted_at'),
  },
  (t) => [
    index('email_changes_user_idx').on(t.userId, t.id),
    index('email_changes_created_idx').on(t.createdAt),
  ],
);

/** Email verification, password reset and email-change tokens: only their SHA-256 is kept. */
export const oneTimeTokens = pgTable(
  'one_time_tokens',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: text('purpose').$type<OneTimeTokenPurpose>().notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    expiresAt: tstz('expires_at').notNull(),
    /** Set when the token is used or voided by a newer one. */
    consumedAt: tstz('consumed_at'),
    /** The email change a confirm or revert link is about; null for the other purposes. */
    emailChangeId: uuid('email_change_id').references(() => emailChanges.id, {
      onDelete: 'cascade',
    }),
  },
  (t) => [
    uniqueIndex('one_time_tokens_hash_key').on(t.tokenHash),
    index('one_time_tokens_user_idx').on(t.userId, t.purpose),
    // Retention: when the token stopped being usable.
    index('one_time_tokens_ended_idx').on(sql`least(${t.consumedAt}, ${t.expiresAt})`),
    index('one_time_tokens_email_change_idx').on(t.emailChangeId),
    check(
      'one_time_tokens_purpose',
      sql`${t.purpose} in ('verify_email', 'reset_password', 'confirm_email_change', 'revert_email_change')`,
    ),
  ],
);

/**
 * A user's TOTP authenticator (RFC 6238), at most one. `secret` is the shared secret sealed with
 * MFA_ENCRYPTION_KEY (AES-256-GCM), never stored in the clear; the row is pending until the
 * first code confirms it. `lastUsedStep` is the 30-second step of the last code accepted: a code
 * of that step or an earlier one is a replay.
 */
export const mfaTotp = pgTable('mfa_totp', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  secret: text('secret').notNull(),
  createdAt: tstz('created_at').notNull().defaultNow(),
  confirmedAt: tstz('confirmed_at'),
  lastUsedStep: bigint('last_used_step', { mode: 'number' }),
});

/** Ten single-use recovery codes per confirmed TOTP, kept as SHA-256 only; used ones are burnt. */
export const mfaRecoveryCodes = pgTable(
  'mfa_recovery_codes',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    usedAt: tstz('used_at'),
  },
  (t) => [
    // Leads with user_id: also the index of a user's codes.
    uniqueIndex('mfa_recovery_codes_hash_key').on(t.userId, t.codeHash),
  ],
);

/**
 * The second step of a sign-in: a password proven, a code still owed. The client holds an opaque
 * token (only its SHA-256 is here) that works once, for 5 minutes, and for a few wrong codes.
 */
export const mfaChallenges = pgTable(
  'mfa_challenges',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    expiresAt: tstz('expires_at').notNull(),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    /** Set when the challenge is answered, voided (MFA reset, too many wrong codes). */
    consumedAt: tstz('consumed_at'),
  },
  (t) => [
    uniqueIndex('mfa_challenges_hash_key').on(t.tokenHash),
    index('mfa_challenges_user_idx').on(t.userId),
    index('mfa_challenges_ended_idx').on(sql`least(${t.consumedAt}, ${t.expiresAt})`),
  ],
);

export const auditEvents = pgTable(
  'audit_events',
  {
    id: id(),
    type: text('type').notNull(),
    /** Plain ids, not foreign keys: the trail outlives the accounts it mentions. */
    actorId: uuid('actor_id'),
    subjectId: uuid('subject_id'),
    ip: text('ip'),
    requestId: text('request_id'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('audit_events_actor_idx').on(t.actorId, t.id),
    index('audit_events_subject_idx').on(t.subjectId, t.id),
    index('audit_events_type_idx').on(t.type, t.id),
    index('audit_events_created_idx').on(t.createdAt),
  ],
);

export type MailStatus = 'pending' | 'sent' | 'failed';

/**
 * Transactional outbox: a mail is written in the same transaction as the token it carries, with
 * a `mail.deliver` job that sends it (retries and backoff are the job's). The body is encrypted
 * at rest (it holds a live token) and erased once sent or given up.
 */
export const mailOutbox = pgTable(
  'mail_outbox',
  {
    id: id(),
    recipient: text('recipient').notNull(),
    subject: text('subject').notNull(),
    template: text('template').notNull(),
    payload: text('payload'),
    status: text('status').$type<MailStatus>().notNull().default('pending'),
    /** Delivery attempts so far, and the last failure: kept here for operators to read. */
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: tstz('created_at').notNull().defaultNow(),
    sentAt: tstz('sent_at'),
  },
  (t) => [
    index('mail_outbox_finished_idx').on(t.createdAt).where(sql`${t.status} <> 'pending'`),
    check('mail_outbox_status', sql`${t.status} in ('pending', 'sent', 'failed')`),
  ],
);

export type JobState = 'pending' | 'done' | 'failed';

/**
 * The durable job queue (src/jobs): timers and background work, scheduled in the transaction of
 * the change that needs them. A worker claims due rows with SKIP LOCKED and a lease
 * (`lockedUntil`), so instances share the queue and never run one job at the same time; a
 * failed run is retried with backoff until `maxAttempts`. `key` makes scheduling idempotent:
 * one job per (name, key) for as long as its row is kept.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: id(),
    name: text('name').notNull(),
    key: text('key'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    state: text('state').$type<JobState>().notNull().default('pending'),
    runAt: tstz('run_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    lockedUntil: tstz('locked_until'),
    lockedBy: text('locked_by'),
    lastError: text('last_error'),
    createdAt: tstz('created_at').notNull().defaultNow(),
    finishedAt: tstz('finished_at'),
  },
  (t) => [
    uniqueIndex('jobs_name_key').on(t.name, t.key),
    index('jobs_due_idx').on(t.runAt).where(sql`${t.state} = 'pending'`),
    index('jobs_finished_idx').on(t.state, t.finishedAt).where(sql`${t.state} <> 'pending'`),
    check('jobs_state', sql`${t.state} in ('pending', 'done', 'failed')`),
    check('jobs_attempts', sql`${t.attempts} >= 0 and ${t.maxAttempts} >= 1`),
  ],
);

export const PROPERTY_TYPES = [
  'single_family',
  'condo',
  'townhouse',
  'apartment',
  'multi_family',
  'other',
] as const;
export type PropertyType = (typeof PROPERTY_TYPES)[number];

export const properties = pgTable(
  'properties',
  {
    id: id(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    addressLine1: text('address_line1').notNull(),
    addressLine2: text('address_line2'),
    city: text('city').notNull(),
    region: text('region').notNull(),
    postalCode: text('postal_code').notNull(),
    country: text('country').notNull(),
    propertyType: text('property_type').$type<PropertyType>().notNull(),
    yearBuilt: integer('year_built'),
    floorAreaSqft: integer('floor_area_sqft'),
    notes: text('notes'),
    ...timestamps,
    ...version,
  },
  (t) => [
    index('properties_owner_idx').on(t.ownerId, t.id.desc()),
    check(
      'properties_floor_area_positive',
      sql`${t.floorAreaSqft} is null or ${t.floorAreaSqft} > 0`,
    ),
  ],
);

export const SERVICE_CATEGORIES = [
  'plumbing',
  'electrical',
  'hvac',
  'roofing',
  'cleaning',
  'landscaping',
  'painting',
  'carpentry',
  'pest_control',
  'appliance_repair',
  'handyman',
  'moving',
  'other',
] as const;
export type ServiceCategory = (typeof SERVICE_CATEGORIES)[number];
export const PRICING_MODELS = ['fixed', 'hourly', 'quote'] as const;
export type PricingModel = (typeof PRICING_MODELS)[number];

export const services = pgTable(
  'services',
  {
    id: id(),
    providerId: uuid('provider_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    description: text('description').notNull(),
    category: text('category').$type<ServiceCategory>().notNull(),
    pricingModel: text('pricing_model').$type<PricingModel>().notNull(),
    priceCents: integer('price_cents'),
    currency: text('currency').notNull().default('USD'),
    postalCodes: text('postal_codes').array().notNull(),
    isActive: boolean('is_active').notNull().default(true),
    /**
     * The provider's rating, copied from provider_ratings whenever it changes (reviews module,
     * in the transaction of the publication or the hiding) so that the catalog's sort and filter
     * read one index of this table: the Bayesian average (the prior mean while unrated), the
     * count and the plain average (null while unrated).
     */
    ratingBayes: doublePrecision('rating_bayes').notNull().default(3.5),
    ratingCount: integer('rating_count').notNull().default(0),
    ratingAverage: doublePrecision('rating_average'),
    /** Full-text search document for the catalog's `q`; the 'simple' config keeps it language-neutral. */
    search: tsvector('search').generatedAlwaysAs(
      sql`to_tsvector('simple', title || ' ' || description)`,
    ),
    ...timestamps,
    ...version,
  },
  (t) => [
    index('services_provider_idx').on(t.providerId, t.id.desc()),
    index('services_catalog_idx').on(t.id.desc()).where(sql`${t.isActive}`),
    index('services_catalog_category_idx').on(t.category, t.id.desc()).where(sql`${t.isActive}`),
    // The catalog's other orders (sort=rating|relevance, sort=price) and its minRating filter:
    // each a keyset range of one partial index; the cursor carries the sort key and the id.
    index('services_catalog_rating_idx')
      .on(t.ratingBayes.desc(), t.id.desc())
      .where(sql`${t.isActive}`),
    index('services_catalog_price_idx')
      .on(sql`coalesce(${t.priceCents}, 2147483647)`, t.id)
      .where(sql`${t.isActive}`),
    index('services_catalog_min_rating_idx')
      .on(t.ratingAverage.desc(), t.id.desc())
      .where(sql`${t.isActive} and ${t.ratingAverage} is not null`),
    index('services_postal_codes_idx').using('gin', t.postalCodes),
    index('services_search_idx').using('gin', t.search),
    check(
      'services_price_required',
      sql`${t.pricingModel} = 'quote' or ${t.priceCents} is not null`,
    ),
  ],
);

/**
 * The catalog's area index: one row per postal code of each active service, so that a
 * `postalCode` filter (with or without `category`) is a btree range read in catalog order, as
 * cheap as the first page, where the GIN index on services.postal_codes would fetch every match
 * and sort. Derived data: a trigger on services keeps it (migration 0003_service_areas_sync);
 * the app only reads it.
 */
export const serviceAreas = pgTable(
  'service_areas',
  {
    postalCode: text('postal_code').notNull(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => services.id, { onDelete: 'cascade' }),
    category: text('category').$type<ServiceCategory>().notNull(),
    /** The service's provider, copied: "does this provider serve (category, postal code)" is one probe. */
    providerId: uuid('provider_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.postalCode, t.serviceId] }),
    index('service_areas_category_idx').on(t.postalCode, t.category, t.serviceId),
    index('service_areas_service_idx').on(t.serviceId),
    index('service_areas_provider_idx').on(t.providerId, t.category, t.postalCode),
  ],
);

/*
 * The marketplace (issue 16): job requests, quotes and bookings. Their `state` columns move only
 * through the transition table in src/modules/marketplace/transitions.ts; the CHECKs name every
 * state it declares. People and places are `set null` on delete: a booked job outlives the
 * accounts and the property it names (an admin still sees it), and the feed's postal code and
 * city are copied onto the request, so it never joins properties.
 */
export const REQUEST_STATES = ['open', 'booked', 'cancelled', 'expired'] as const;
export type RequestState = (typeof REQUEST_STATES)[number];
export const QUOTE_STATES = [
  'live',
  'replaced',
  'withdrawn',
  'declined',
  'expired',
  'accepted',
] as const;
export type QuoteState = (typeof QUOTE_STATES)[number];
export const BOOKING_STATES = [
  'scheduled',
  'in_progress',
  'completed',
  'confirmed',
  'cancelled',
  'disputed',
  'resolved',
] as const;
export type BookingState = (typeof BOOKING_STATES)[number];
export const TIMES_OF_DAY = ['morning', 'afternoon', 'evening'] as const;
export type TimeOfDay = (typeof TIMES_OF_DAY)[number];
export const PARTIES = ['homeowner', 'provider', 'admin', 'system'] as const;
export type Party = (typeof PARTIES)[number];

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

export const jobRequests = pgTable(
  'job_requests',
  {
    id: id(),
    homeownerId: uuid('homeowner_id').references(() => users.id, { onDelete: 'set null' }),
    propertyId: uuid('property_id').references(() => properties.id, { onDelete: 'set null' }),
    /** A direct request names one service, and so one provider; null: open to every match. */
    serviceId: uuid('service_id').references(() => services.id, { onDelete: 'set null' }),
    directProviderId: uuid('direct_provider_id').references(() => users.id, {
      onDelete: 'set null',
    }),
    category: text('category').$type<ServiceCategory>().notNull(),
    /** Copied from the property (normalised as service areas are): what a provider sees. */
    postalCode: text('postal_code').notNull(),
    city: text('city').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull(),
    earliestDate: date('earliest_date', { mode: 'string' }).notNull(),
    latestDate: date('latest_date', { mode: 'string' }).notNull(),
    timeOfDay: text('time_of_day').$type<TimeOfDay>(),
    budgetCents: integer('budget_cents'),
    currency: text('currency'),
    state: text('state').$type<RequestState>().notNull().default('open'),
    cancelReason: text('cancel_reason'),
    expiresAt: tstz('expires_at').notNull(),
    ...timestamps,
  },
  (t) => [
    index('job_requests_homeowner_idx').on(t.homeownerId, t.id.desc()),
    // The provider feed: open requests newest first (uuid v7 ids are creation-ordered), one
    // range per (category, postal code) filter, or the whole open set without one.
    index('job_requests_feed_idx')
      .on(t.category, t.postalCode, t.id.desc())
      .where(sql`${t.state} = 'open'`),
    index('job_requests_open_idx').on(t.id.desc()).where(sql`${t.state} = 'open'`),
    check('job_requests_state', sql`${t.state} in (${inList(REQUEST_STATES)})`),
    check('job_requests_window', sql`${t.earliestDate} <= ${t.latestDate}`),
    check(
      'job_requests_budget',
      sql`(${t.budgetCents} is null) = (${t.currency} is null) and coalesce(${t.budgetCents}, 0) >= 0`,
    ),
  ],
);

export const quotes = pgTable(
  'quotes',
  {
    id: id(),
    requestId: uuid('request_id')
      .notNull()
      .references(() => jobRequests.id, { onDelete: 'cascade' }),
    providerId: uuid('provider_id').references(() => users.id, { onDelete: 'set null' }),
    serviceId: uuid('service_id').references(() => services.id, { onDelete: 'set null' }),
    priceCents: integer('price_cents').notNull(),
    currency: text('currency').notNull(),
    message: text('message').notNull(),
    validUntil: tstz('valid_until').notNull(),
    proposedStart: tstz('proposed_start').notNull(),
    state: text('state').$type<QuoteState>().notNull().default('live'),
    ...timestamps,
  },
  (t) => [
    // One live quote per provider and request: a revision replaces it.
    uniqueIndex('quotes_live_key').on(t.requestId, t.providerId).where(sql`${t.state} = 'live'`),
    index('quotes_request_idx').on(t.requestId, t.id.desc()),
    index('quotes_provider_idx').on(t.providerId, t.id.desc()),
    index('quotes_service_live_idx').on(t.serviceId).where(sql`${t.state} = 'live'`),
    check('quotes_state', sql`${t.state} in (${inList(QUOTE_STATES)})`),
    check('quotes_price', sql`${t.priceCents} >= 0`),
  ],
);

export const bookings = pgTable(
  'bookings',
  {
    id: id(),
    requestId: uuid('request_id')
      .notNull()
      .references(() => jobRequests.id),
    quoteId: uuid('quote_id')
      .notNull()
      .references(() => quotes.id),
    homeownerId: uuid('homeowner_id').references(() => users.id, { onDelete: 'set null' }),
    providerId: uuid('provider_id').references(() => users.id, { onDelete: 'set null' }),
    priceCents: integer('price_cents').notNull(),
    currency: text('currency').notNull(),
    proposedStart: tstz('proposed_start').notNull(),
    state: text('state').$type<BookingState>().notNull().default('scheduled'),
    cancelledBy: text('cancelled_by').$type<Party>(),
    cancelReason: text('cancel_reason'),
    lateCancellation: boolean('late_cancellation').notNull().default(false),
    completedAt: tstz('completed_at'),
    /** When it reached `confirmed` (by the homeowner or the timer): the review window starts. */
    confirmedAt: tstz('confirmed_at'),
    disputeReason: text('dispute_reason'),
    resolution: text('resolution'),
    ...timestamps,
  },
  (t) => [
    // One booking per request: the backstop under accept's compare-and-set.
    uniqueIndex('bookings_request_key').on(t.requestId),
    uniqueIndex('bookings_quote_key').on(t.quoteId),
    index('bookings_homeowner_idx').on(t.homeownerId, t.id.desc()),
    index('bookings_homeowner_state_idx').on(t.homeownerId, t.state, t.id.desc()),
    index('bookings_provider_idx').on(t.providerId, t.id.desc()),
    index('bookings_provider_state_idx').on(t.providerId, t.state, t.id.desc()),
    index('bookings_state_idx').on(t.state, t.id.desc()),
    check('bookings_state', sql`${t.state} in (${inList(BOOKING_STATES)})`),
    check(
      'bookings_cancelled_by',
      sql`${t.cancelledBy} is null or ${t.cancelledBy} in (${inList(PARTIES)})`,
    ),
  ],
);

export type IdempotencyState = 'pending' | 'done';

/**
 * Idempotency keys (src/kernel/idempotency.ts): the first answer to a creating POST that carried
 * an `Idempotency-Key`, per user and key, so that a retry gets that answer instead of a second
 * effect. A `pending` row is a request in flight, leased until `lockedUntil`; a `done` row holds
 * the response. Rows live 24 hours (`expiresAt`); the retention job deletes them after that.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    /** SHA-256 of the canonical JSON of the request body. */
    fingerprint: text('fingerprint').notNull(),
    state: text('state').$type<IdempotencyState>().notNull().default('pending'),
    /** A new UUID per claim: only the request holding the current claim records the response. */
    claim: uuid('claim').notNull(),
    lockedUntil: tstz('locked_until').notNull(),
    statusCode: integer('status_code'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    responseBody: text('response_body'),
    createdAt: tstz('created_at').notNull(),
    expiresAt: tstz('expires_at').notNull(),
  },
  (t) => [
    uniqueIndex('idempotency_keys_user_key').on(t.userId, t.key),
    index('idempotency_keys_expires_idx').on(t.expiresAt),
    check('idempotency_keys_state', sql`${t.state} in ('pending', 'done')`),
    check(
      'idempotency_keys_done_has_response',
      sql`${t.state} = 'pending' or ${t.statusCode} is not null`,
    ),
  ],
);

/**
 * What each user is told: one row per notification, written in the transaction of the change it
 * reports (NotificationsService.notify). The kinds are declared in modules/notifications/kinds.ts.
 */
export const notifications = pgTable(
  'notifications',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    /** A path in the app the notification is about, e.g. `/bookings/{id}`. */
    link: text('link'),
    readAt: tstz('read_at'),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [
    // The list (newest first) and the stream's replay (id > Last-Event-ID, oldest first).
    index('notifications_user_idx').on(t.userId, t.id.desc()),
    // The unread filter: one range of the partial index.
    index('notifications_unread_idx').on(t.userId, t.id.desc()).where(sql`${t.readAt} is null`),
    // Retention: read notifications older than NOTIFICATION_RETENTION_DAYS, oldest first.
    index('notifications_read_idx').on(t.readAt).where(sql`${t.readAt} is not null`),
  ],
);

/** Which kinds of notification also send mail; a user without a row has the defaults. */
export const notificationSettings = pgTable('notification_settings', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  /** Kind → mail or not; a kind missing here has its default. */
  mail: jsonb('mail').$type<Record<string, boolean>>().notNull().default({}),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/**
 * Message threads (modules/messages): one per job request and provider, opened when the provider
 * first quotes, or when the request is a direct one to that provider. The parties are `set null`
 * when an account is deleted: the thread and its messages stay for the other party, who sees a
 * "former user".
 */
export const messageThreads = pgTable(
  'message_threads',
  {
    id: id(),
    requestId: uuid('request_id')
      .notNull()
      .references(() => jobRequests.id, { onDelete: 'cascade' }),
    homeownerId: uuid('homeowner_id').references(() => users.id, { onDelete: 'set null' }),
    providerId: uuid('provider_id').references(() => users.id, { onDelete: 'set null' }),
    lastActivityAt: tstz('last_activity_at').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [
    // One thread per request and provider: opening it again adds nothing.
    uniqueIndex('message_threads_request_provider_key').on(t.requestId, t.providerId),
  ],
);

/**
 * Each party's side of a thread: the list `GET /threads` reads (one index range per user, most
 * recent activity first), the read marker and the unread count. Deleted with the user.
 */
export const threadMembers = pgTable(
  'thread_members',
  {
    threadId: uuid('thread_id')
      .notNull()
      .references(() => messageThreads.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role').$type<'homeowner' | 'provider'>().notNull(),
    lastActivityAt: tstz('last_activity_at').notNull(),
    /** The newest message this member has read (null: none). */
    lastReadId: uuid('last_read_id'),
    /** Messages of the other party after `lastReadId`: kept by posting and reading. */
    unreadCount: integer('unread_count').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.threadId, t.userId] }),
    index('thread_members_list_idx').on(t.userId, t.lastActivityAt.desc(), t.threadId.desc()),
    check('thread_members_role', sql`${t.role} in ('homeowner', 'provider')`),
  ],
);

/** The messages of a thread; the sender is `set null` (a "former user") when deleted. */
export const messages = pgTable(
  'messages',
  {
    id: id(),
    threadId: uuid('thread_id')
      .notNull()
      .references(() => messageThreads.id, { onDelete: 'cascade' }),
    senderId: uuid('sender_id').references(() => users.id, { onDelete: 'set null' }),
    body: text('body').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [index('messages_thread_idx').on(t.threadId, t.id.desc())],
);

/*
 * Reviews and ratings (issue 17). One review per party of a confirmed booking, hidden from
 * everyone but its author until published: when both parties have reviewed, or 14 days after
 * confirmation (the `reviews.publish` timer). People are `set null` on delete: a deleted
 * account's reviews stay, shown as written by "former user".
 */
export const REVIEW_AUTHOR_ROLES = ['homeowner', 'provider'] as const;
export type ReviewAuthorRole = (typeof REVIEW_AUTHOR_ROLES)[number];

export const reviews = pgTable(
  'reviews',
  {
    id: id(),
    bookingId: uuid('booking_id')
      .notNull()
      .references(() => bookings.id),
    /** Which party wrote it; the other one is its subject. */
    authorRole: text('author_role').$type<ReviewAuthorRole>().notNull(),
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    subjectId: uuid('subject_id').references(() => users.id, { onDelete: 'set null' }),
    rating: smallint('rating').notNull(),
    text: text('text').notNull(),
    /** Null while blind; set once by the second review or the timer. */
    publishedAt: tstz('published_at'),
    /** The reviewed provider's one public reply (homeowner-authored reviews only). */
    reply: text('reply'),
    repliedAt: tstz('replied_at'),
    hiddenAt: tstz('hidden_at'),
    hiddenReason: text('hidden_reason'),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [
    // Each party once per booking: the backstop under the service's check.
    uniqueIndex('reviews_booking_author_key').on(t.bookingId, t.authorRole),
    // The reviews about someone, as others see them: published, not hidden, newest first.
    index('reviews_subject_public_idx')
      .on(t.subjectId, t.authorRole, t.id.desc())
      .where(sql`${t.publishedAt} is not null and ${t.hiddenAt} is null`),
    // The reviews someone wrote, in either role.
    index('reviews_author_idx').on(t.authorId, t.authorRole, t.id.desc()),
    check('reviews_rating', sql`${t.rating} between 1 and 5`),
    check('reviews_author_role', sql`${t.authorRole} in (${inList(REVIEW_AUTHOR_ROLES)})`),
    check('reviews_reply_pair', sql`(${t.reply} is null) = (${t.repliedAt} is null)`),
  ],
);

/**
 * Each provider's rating over the published, visible reviews homeowners wrote about them: kept
 * in the transaction that publishes or hides a review, never recomputed on read. `bayesian` is
 * (C·m + sum) / (C + count) with the prior mean m and weight C of the configuration at the time.
 */
export const providerRatings = pgTable(
  'provider_ratings',
  {
    providerId: uuid('provider_id')
      .primaryKey()
      .references(() => users.id, { onDelete: 'cascade' }),
    count: integer('count').notNull().default(0),
    sum: integer('sum').notNull().default(0),
    average: doublePrecision('average'),
    bayesian: doublePrecision('bayesian').notNull(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [check('provider_ratings_count', sql`${t.count} >= 0 and ${t.sum} >= 0`)],
);

/**
 * A user's passkeys (WebAuthn discoverable credentials, issue 18). `credentialId` and
 * `publicKey` (COSE) are base64url; the public key is no secret, yet admins see only a count.
 * `counter` is the authenticator's signature counter: a sign-in whose counter does not rise
 * above it (when either is non-zero) is refused as a cloned authenticator.
 */
export const passkeys = pgTable(
  'passkeys',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    credentialId: text('credential_id').notNull(),
    publicKey: text('public_key').notNull(),
    counter: bigint('counter', { mode: 'number' }).notNull().default(0),
    transports: text('transports').array().notNull().default(sql`'{}'`),
    name: text('name').notNull(),
    deviceType: text('device_type').notNull(),
    backedUp: boolean('backed_up').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    lastUsedAt: tstz('last_used_at'),
  },
  (t) => [
    uniqueIndex('passkeys_credential_key').on(t.credentialId),
    index('passkeys_user_idx').on(t.userId, t.id),
  ],
);

/**
 * A WebAuthn challenge in flight: a registration's is bound to the user and session that asked
 * for it, a sign-in's to its id alone (no user is named). Each is deleted as it is answered
 * (DELETE … RETURNING: one answer wins) and lives 5 minutes.
 */
export const passkeyChallenges = pgTable(
  'passkey_challenges',
  {
    id: id(),
    purpose: text('purpose').$type<'register' | 'sign_in'>().notNull(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    sessionId: uuid('session_id').references(() => sessions.id, { onDelete: 'cascade' }),
    challenge: text('challenge').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    expiresAt: tstz('expires_at').notNull(),
  },
  (t) => [
    index('passkey_challenges_user_idx').on(t.userId),
    index('passkey_challenges_session_idx').on(t.sessionId),
    index('passkey_challenges_expires_idx').on(t.expiresAt),
    check('passkey_challenges_purpose', sql`${t.purpose} in ('register', 'sign_in')`),
    check(
      'passkey_challenges_binding',
      sql`(${t.purpose} = 'sign_in') = (${t.userId} is null and ${t.sessionId} is null)`,
    ),
  ],
);

/**
 * The devices a user signed in from: a hash of the user agent and the network (/24 of IPv4,
 * /48 of IPv6), never either in the clear. A sign-in from a device not seen for 90 days mails
 * a notice (the first sign-in of an account is recorded silently).
 */
export const signInDevices = pgTable(
  'sign_in_devices',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    deviceHash: text('device_hash').notNull(),
    firstSeenAt: tstz('first_seen_at').notNull().defaultNow(),
    lastSeenAt: tstz('last_seen_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('sign_in_devices_user_device_key').on(t.userId, t.deviceHash),
    index('sign_in_devices_last_seen_idx').on(t.lastSeenAt),
  ],
);
