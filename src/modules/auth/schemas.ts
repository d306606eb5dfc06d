import { Type } from 'typebox';
import { EMAIL_MAX_LENGTH } from '../../lib/email.js';
import { Problem, Strict, Timestamp, Uuid } from '../../lib/schemas.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './passwords.js';

/**
 * One mailbox, one spelling: the `email` format (src/lib/validation.ts) accepts only what
 * canonicalEmail() turns into a plain WHATWG address, and the service uses that canonical form.
 * The length is checked before the format. Signing in takes any such address, as ADMIN_EMAIL does
 * (`admin@localhost`); registering needs a domain on the internet.
 */
export const Email = Type.String({
  maxLength: EMAIL_MAX_LENGTH,
  format: 'email',
  description:
    'An email address in the HTML standard’s syntax (no display name, quotes, comments or trailing dot); compared after NFKC, lower-casing and IDNA of the domain',
  examples: ['jane@example.com'],
});

/** A password being set. Its length is refused by the schema, before any hashing. */
export const Password = Type.String({
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: PASSWORD_MAX_LENGTH,
  description: `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters (code points); common passwords, and the email itself, are refused with 400 \`weak_password\``,
  examples: ['correct horse battery staple 42'],
});

/** A password being checked: whatever was set, so only the maximum applies. */
export const CurrentPassword = Type.String({
  minLength: 1,
  maxLength: PASSWORD_MAX_LENGTH,
  description: 'The account’s current password',
  examples: ['correct horse battery staple 42'],
});

export const FullName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });

export const RegisterBody = Strict(
  {
    email: Email,
    password: Password,
    fullName: FullName,
    role: Type.Union([Type.Literal('homeowner'), Type.Literal('service_provider')], {
      description: 'The role to sign up with; admin cannot be chosen',
    }),
  },
  { title: 'RegisterBody' },
);

export const OpaqueToken = Type.String({
  minLength: 16,
  maxLength: 128,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'An opaque one-time token, as the link in the mail carries it',
  examples: ['hQ4x2Zr7mK9pLw3sTn8vYb5cJd6fGe1a'],
});

export const TokenBody = Strict({ token: OpaqueToken }, { title: 'TokenBody' });
export const EmailBody = Strict({ email: Email }, { title: 'EmailBody' });

export const LoginBody = Type.Union(
  [
    Strict({ email: Email, password: CurrentPassword }, { title: 'EmailLogin' }),
    Strict(
      {
        username: Email,
        password: CurrentPassword,
        grant_type: Type.Optional(Type.Literal('password')),
        scope: Type.Optional(Type.String({ maxLength: 200 })),
        client_id: Type.Optional(Type.String({ maxLength: 200 })),
        client_secret: Type.Optional(Type.String({ maxLength: 200 })),
      },
      { title: 'OAuth2PasswordLogin' },
    ),
  ],
  {
    title: 'LoginBody',
    description:
      'JSON `{ email, password }`, or the OAuth2 password form (`username`, `password`) as application/x-www-form-urlencoded',
  },
);

export const RefreshBody = Strict({ refresh_token: OpaqueToken }, { title: 'RefreshBody' });

export const ResetPasswordBody = Strict(
  { token: OpaqueToken, newPassword: Password },
  { title: 'ResetPasswordBody' },
);

/** OAuth2's field names (RFC 6749 §5.1), hence snake_case where the rest of the API is camelCase. */
export const TokenPair = Type.Object(
  {
    access_token: Type.String({ description: 'A JWT to send as `Authorization: Bearer …`' }),
    refresh_token: Type.String({ description: 'Opaque; exchanged once at /auth/refresh' }),
    token_type: Type.Literal('bearer'),
    expires_in: Type.Integer({ description: 'Access token lifetime in seconds' }),
  },
  { title: 'TokenPair', description: 'OAuth2 token response (snake_case per RFC 6749)' },
);

export const Session = Type.Object(
  {
    id: Uuid,
    createdAt: Timestamp,
    lastUsedAt: Timestamp,
    userAgent: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    current: Type.Boolean(),
  },
  { title: 'Session', description: 'A signed-in device or browser' },
);

/** The 401 of POST /auth/login: a wrong password, or a right one still owing a second factor. */
export const LoginProblem = Type.Object(
  {
    ...Problem.properties,
    challenge: Type.Optional(
      Type.String({
        description:
          'With `mfa_required` only: send it with a code to POST /auth/mfa/verify within 5 minutes; it works once',
      }),
    ),
    challengeExpiresIn: Type.Optional(
      Type.Integer({ description: 'Seconds the challenge lives (300)' }),
    ),
  },
  {
    title: 'LoginProblem',
    description:
      '`invalid_credentials`, or `mfa_required` with the challenge of the second step (RFC 9457 extension members)',
  },
);
