/**
 * Who may call what, written down from API.md (and docs/roles-and-permissions.md for the routes
 * API.md groups as "owner only"), not read from the code. The role × route matrix asserts the app
 * against this table, so a route that loses its guard, gains one, or appears without a row here
 * fails the matrix. Change a row only when the contract changes.
 */

/**
 * - `public`: no token needed; a token changes nothing.
 * - `credentials`: public, but it checks a password or refresh token of its own (POST /auth/login,
 *   /auth/refresh): a 401 there is about those, never `unauthorized` for a missing bearer token.
 * - `signed-in`: any valid access token, whatever the roles.
 * - `resource:action`: a signed-in user whose roles grant that permission.
 */
export type Access = 'public' | 'credentials' | 'signed-in' | `${string}:${string}`;

export interface ContractRow {
  access: Access;
  /**
   * The status a caller who may call the route gets from the matrix's request: random UUIDs for
   * ids (an owner-only or admin route finds nothing: 404), `homeowner` for `{role}`, and `{}` as
   * the body of a route that takes one (400: the caller passed the guard and met validation; an
   * empty PATCH is a 400 too).
   */
  allowed: number;
  /**
   * A sensitive action (issue 18) of a user with two-factor sign-in: changing the password,
   * email or MFA, deleting the account, every admin write.
   * - `session`: the route declares app.requireStepUp: the session must have proven the second
   *   factor in the last 10 minutes, else 403 `step_up_required`;
   * - `proof`: the request itself carries the password and a current code (regenerating
   *   recovery codes, turning MFA off): a fresher proof than any session's.
   */
  stepUp?: 'session' | 'proof';
}

const row = (access: Access, allowed: number): ContractRow => ({ access, allowed });
/** A row whose route needs step-up of the session. */
const sensitive = (access: Access, allowed: number): ContractRow => ({
  access,
  allowed,
  stepUp: 'session',
});
/** A row whose route takes the password and a second factor in its body. */
const proven = (access: Access, allowed: number): ContractRow => ({
  access,
  allowed,
  stepUp: 'proof',
});

export const CONTRACT: Record<string, ContractRow> = {
  // Operations endpoints (no authentication)
  'GET /health/live': row('public', 200),
  'GET /health/ready': row('public', 200),
  'GET /metrics': row('public', 200),
  'GET /openapi.json': row('public', 200),
  // The interactive docs (GET /docs): the page and the assets swagger-ui serves with it.
  'GET /docs/': row('public', 200),
  'GET /docs/json': row('public', 200),
  'GET /docs/yaml': row('public', 200),
  // swagger-ui sends its static index page back to /docs/ (the matrix asks for index.html).
  'GET /docs/static/*': row('public', 302),
  'GET /docs/static/index.html': row('public', 302),
  'GET /docs/static/swagger-initializer.js': row('public', 200),

  // Public endpoints
  'POST /auth/register': row('public', 400),
  'POST /auth/verify-email': row('public', 400),
  'POST /auth/resend-verification': row('public', 400),
  'POST /auth/login': row('credentials', 400),
  'POST /auth/refresh': row('credentials', 400),
  'POST /auth/forgot-password': row('public', 400),
  'POST /auth/reset-password': row('public', 400),

  // The pages the mail links open (API.md, second release): a GET never consumes a token, and a
  // link without one is a damaged link (400 page). The forms take only form bodies: JSON is 415.
  'GET /verify-email': row('public', 400),
  'POST /verify-email': row('public', 415),
  'GET /reset-password': row('public', 400),
  'POST /reset-password': row('public', 415),
  'GET /forgot-password': row('public', 200),
  'GET /confirm-email-change': row('public', 400),
  'POST /confirm-email-change': row('public', 415),
  'GET /revert-email-change': row('public', 400),
  'POST /revert-email-change': row('public', 415),
  'POST /forgot-password': row('public', 415),

  // Authenticated endpoints: sessions and one's own account
  'POST /auth/logout': row('signed-in', 204),
  'POST /auth/logout-all': row('signed-in', 204),
  'GET /auth/sessions': row('signed-in', 200),
  'DELETE /auth/sessions/{id}': row('signed-in', 404),
  'GET /users/me': row('signed-in', 200),
  'PUT /users/me': row('signed-in', 400),
  'PATCH /users/me': row('signed-in', 400),
  'POST /users/me/password': sensitive('signed-in', 400),
  'DELETE /users/me': sensitive('signed-in', 400),
  // Email change (issue 18): the request needs the session, the password and, with MFA, a recent
  // step-up; the links in the two mails carry their own one-time token, so confirm and revert are
  // public.
  'POST /users/me/email': sensitive('signed-in', 400),
  'POST /users/me/email/confirm': row('public', 400),
  'POST /users/me/email/revert': row('public', 400),

  // Two-factor sign-in (issue 18). Enrolment, GET /users/me and logout stay open to a user whom
  // MFA_REQUIRED_ROLES obliges to enrol (test/mfa/required-roles.security.test.ts).
  'GET /users/me/mfa': row('signed-in', 200),
  'POST /users/me/mfa/totp': row('signed-in', 400),
  'POST /users/me/mfa/totp/confirm': row('signed-in', 400),
  'POST /users/me/mfa/recovery-codes': proven('signed-in', 400),
  'DELETE /users/me/mfa/totp': proven('signed-in', 400),
  'POST /auth/mfa/verify': row('credentials', 400),
  // Passkeys (issue 18). Adding one needs the password or a fresh aal2, and with TOTP on a recent
  // step-up (the service's rule, 403 step_up_required: the password may stand in without TOTP); deleting one is a change of the account's factors. Sign-in is
  // public and checks its own credential (the assertion).
  'POST /users/me/passkeys/options': row('signed-in', 400),
  'POST /users/me/passkeys': row('signed-in', 400),
  'GET /users/me/passkeys': row('signed-in', 200),
  'DELETE /users/me/passkeys/{id}': sensitive('signed-in', 404),
  'POST /auth/passkey/options': row('public', 200),
  'POST /auth/passkey/verify': row('credentials', 400),
  'POST /auth/step-up': row('signed-in', 400),

  // Notifications (API.md: reviews, messages, notifications): each user's own. The stream answers
  // 406 to the matrix's request, which does not accept text/event-stream.
  'GET /notifications': row('signed-in', 200),
  'POST /notifications/read': row('signed-in', 400),
  'GET /notifications/stream': row('signed-in', 406),
  'GET /users/me/notification-settings': row('signed-in', 200),
  'PUT /users/me/notification-settings': row('signed-in', 400),

  // Messages (API.md: reviews, messages, notifications): any signed-in user; who may read a
  // thread is in the query (its two parties, an admin on a disputed booking), anyone else 404.
  'GET /threads': row('signed-in', 200),
  'GET /threads/{id}/messages': row('signed-in', 404),
  'POST /threads/{id}/messages': row('signed-in', 400),
  'POST /threads/{id}/read': row('signed-in', 400),

  // Properties: the collection's permission guards the items too; someone else's id is a 404.
  'GET /homeowners/properties': row('properties:read', 200),
  'POST /homeowners/properties': row('properties:write', 400),
  'GET /homeowners/properties/{id}': row('properties:read', 404),
  'PUT /homeowners/properties/{id}': row('properties:write', 400),
  'PATCH /homeowners/properties/{id}': row('properties:write', 400),
  'DELETE /homeowners/properties/{id}': row('properties:write', 404),

  // Services, likewise
  'GET /service-providers/services': row('services:read', 200),
  'POST /service-providers/services': row('services:write', 400),
  'GET /service-providers/services/{id}': row('services:read', 404),
  'PUT /service-providers/services/{id}': row('services:write', 400),
  'PATCH /service-providers/services/{id}': row('services:write', 400),
  'DELETE /service-providers/services/{id}': row('services:write', 404),

  // The catalog. API.md says "any signed-in user"; the code asks for catalog:read, which the seed
  // grants to every role, so only a user stripped of all roles differs (403). Kept on purpose:
  // permissions are data, and an operator can take browsing away from a role without a release.
  'GET /services': row('catalog:read', 200),

  // The marketplace (issue 16): a homeowner's requests and the quotes on them; someone else's
  // request is 404. Providers read the feed of requests they can serve and quote on them.
  'GET /homeowners/requests': row('requests:read', 200),
  'POST /homeowners/requests': row('requests:write', 400),
  'GET /homeowners/requests/{id}': row('requests:read', 404),
  'PATCH /homeowners/requests/{id}': row('requests:write', 400),
  'POST /homeowners/requests/{id}/cancel': row('requests:write', 404),
  'GET /homeowners/requests/{id}/quotes': row('requests:read', 404),
  'POST /homeowners/requests/{id}/quotes/{quoteId}/accept': row('requests:write', 404),
  'GET /service-providers/requests': row('feed:read', 200),
  'GET /service-providers/requests/{id}': row('feed:read', 404),
  'POST /service-providers/requests/{id}/quotes': row('quotes:write', 400),
  'POST /service-providers/quotes/{id}/withdraw': row('quotes:write', 404),
  // Bookings: either party reads and moves its own (a stranger's id is 404); the transitions with
  // a reason need a body.
  'GET /bookings/{id}': row('bookings:read', 404),
  'GET /homeowners/bookings': row('bookings:read', 200),
  'GET /service-providers/bookings': row('bookings:read', 200),
  'POST /bookings/{id}/start': row('bookings:write', 404),
  'POST /bookings/{id}/complete': row('bookings:write', 404),
  'POST /bookings/{id}/confirm': row('bookings:write', 404),
  'POST /bookings/{id}/cancel': row('bookings:write', 400),
  'POST /bookings/{id}/dispute': row('bookings:write', 400),

  // Reviews (issue 17): a party reviews its confirmed booking (a stranger's is 404); the
  // reviewed provider replies; everyone who browses the catalog reads a provider's profile and
  // published reviews (a random id is no provider: 404); one's own lists need reviews:read.
  'POST /bookings/{id}/review': row('reviews:write', 400),
  'POST /reviews/{id}/reply': row('reviews:write', 400),
  'GET /providers/{id}': row('catalog:read', 404),
  'GET /providers/{id}/reviews': row('catalog:read', 404),
  'GET /homeowners/reviews': row('reviews:read', 200),
  'GET /service-providers/reviews': row('reviews:read', 200),

  // Administration
  'GET /admin/bookings': row('bookings:manage', 200),
  'POST /admin/bookings/{id}/resolve': sensitive('bookings:manage', 400),
  'POST /admin/reviews/{id}/hide': sensitive('reviews:manage', 400),
  'GET /admin/users': row('users:read', 200),
  'GET /admin/users/{id}': row('users:read', 404),
  'PATCH /admin/users/{id}': sensitive('users:manage', 400),
  'GET /admin/roles': row('roles:assign', 200),
  'POST /admin/users/{id}/roles': sensitive('roles:assign', 400),
  'DELETE /admin/users/{id}/roles/{role}': sensitive('roles:assign', 404),
  'POST /admin/users/{id}/mfa/reset': sensitive('users:manage', 404),
  'GET /admin/audit-events': row('audit:read', 200),
};

/** Whether the route needs no access token. */
export const isOpen = (access: Access) => access === 'public' || access === 'credentials';
