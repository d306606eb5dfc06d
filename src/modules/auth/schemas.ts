import { Type } from 'typebox';
import { EMAIL_MAX_LENGTH } from '../../lib/email.js';
import { Strict, Timestamp, Uuid } from '../../lib/schemas.js';
import { PASSWORD_MAX_LENGTH } from './passwords.js';

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

/** Length beyond the maximum is refused by the schema, before any hashing. */
export const Password = Type.String({
  minLength: 1,
  maxLength: PASSWORD_MAX_LENGTH,
  description: `8 to ${PASSWORD_MAX_LENGTH} characters; common passwords are refused`,
});

export const FullName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });

export const RegisterBody = Strict({
  email: Email,
  password: Password,
  fullName: FullName,
  role: Type.Union([Type.Literal('homeowner'), Type.Literal('service_provider')], {
    description: 'The role to sign up with; admin cannot be chosen',
  }),
});

export const OpaqueToken = Type.String({
  minLength: 16,
  maxLength: 128,
  pattern: '^[A-Za-z0-9_-]+$',
});

export const TokenBody = Strict({ token: OpaqueToken });
export const EmailBody = Strict({ email: Email });

export const LoginBody = Type.Union(
  [
    Strict({ email: Email, password: Password }),
    Strict({
      username: Email,
      password: Password,
      grant_type: Type.Optional(Type.Literal('password')),
      scope: Type.Optional(Type.String({ maxLength: 200 })),
      client_id: Type.Optional(Type.String({ maxLength: 200 })),
      client_secret: Type.Optional(Type.String({ maxLength: 200 })),
    }),
  ],
  {
    description:
      'JSON `{ email, password }`, or the OAuth2 password form (`username`, `password`) as application/x-www-form-urlencoded',
  },
);

export const RefreshBody = Strict({ refresh_token: OpaqueToken });

export const ResetPasswordBody = Strict({ token: OpaqueToken, newPassword: Password });

export const TokenPair = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer({ description: 'Access token lifetime in seconds' }),
});

export const Session = Type.Object({
  id: Uuid,
  createdAt: Timestamp,
  lastUsedAt: Timestamp,
  userAgent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
});
