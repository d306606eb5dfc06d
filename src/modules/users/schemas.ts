import { Type } from 'typebox';
import { Strict, Timestamp, Uuid } from '../../lib/schemas.js';
import { CurrentPassword, Email, FullName, Password } from '../auth/schemas.js';

export const User = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    fullName: Type.String(),
    phone: Type.Union([Type.String(), Type.Null()]),
    roles: Type.Array(Type.String()),
    permissions: Type.Array(Type.String()),
    emailVerified: Type.Boolean(),
    isActive: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'User', description: 'An account with its roles and the permissions they grant' },
);

/** What an admin sees of one account: the User, and whether it has a second factor. */
export const AdminUser = Type.Object(
  {
    ...User.properties,
    mfa: Type.Object(
      {
        totp: Type.Boolean({ description: 'Two-factor sign-in with an authenticator app is on' }),
        passkeys: Type.Integer({
          minimum: 0,
          description: 'How many passkeys the account holds (never the keys)',
        }),
      },
      { title: 'MfaSummary', description: 'The second factors the account has; no secrets' },
    ),
  },
  { title: 'AdminUser', description: 'An account as an admin sees it' },
);

/**
 * The lookahead takes the longest run of phone characters once, and `\1` consumes exactly it: a
 * lookahead never backtracks, so the spaces the run may end with are not shared with `\s*`
 * (`[0-9 ().-]{1,30}\s*$` retried 30 splits at every space of a long input).
 */
const PHONE_PATTERN = '^\\s*\\+?[0-9](?=([0-9 ().-]{1,30}))\\1\\s*$';

export const Phone = Type.Union(
  [
    Type.String({
      minLength: 3,
      maxLength: 32,
      pattern: PHONE_PATTERN,
      examples: ['+1 415 555 0100'],
    }),
    Type.Null(),
  ],
  { description: 'A phone number, or null to clear it' },
);

export const ProfileReplace = Strict(
  { fullName: FullName, phone: Phone },
  { title: 'ProfileReplace' },
);
export const ProfilePatch = Type.Object(
  { fullName: Type.Optional(FullName), phone: Type.Optional(Phone) },
  { additionalProperties: false, minProperties: 1, title: 'ProfilePatch' },
);

export const ChangePasswordBody = Strict(
  { currentPassword: CurrentPassword, newPassword: Password },
  { title: 'ChangePasswordBody' },
);
export const DeleteAccountBody = Strict(
  { password: CurrentPassword },
  { title: 'DeleteAccountBody' },
);

export const ChangeEmailBody = Strict(
  {
    password: CurrentPassword,
    newEmail: { ...Email, description: 'The address to move the account to' },
  },
  { title: 'ChangeEmailBody' },
);
