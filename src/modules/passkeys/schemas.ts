import { Type } from 'typebox';
import { Strict, Timestamp, Uuid } from '../../lib/schemas.js';
import { CurrentPassword } from '../auth/schemas.js';

/** Base64url as WebAuthn's JSON carries binary; bounded so no field can be a megabyte. */
const b64url = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+$', description });

const Transports = Type.Array(
  Type.String({
    maxLength: 32,
    pattern: '^[a-z-]+$',
    description: 'usb, nfc, ble, internal, hybrid…',
  }),
  { maxItems: 8 },
);

/** A loose object: WebAuthn's JSON, which browsers extend; what this API reads is typed. */
const Loose = (properties: Parameters<typeof Type.Object>[0], description: string) =>
  Type.Object(properties, { additionalProperties: true, description });

export const PasskeyName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[^\\u0000-\\u001f\\u007f]*\\S[^\\u0000-\\u001f\\u007f]*$',
  description: 'A name you recognise the passkey by (1-64 characters, no control characters)',
  examples: ['Laptop fingerprint'],
});

export const PasskeyOptionsBody = Strict(
  {
    password: Type.Optional(CurrentPassword),
  },
  {
    title: 'PasskeyOptionsBody',
    description:
      'The current password; may be left out when this session proved a second factor in the last 10 minutes (with two-factor sign-in on, that is required and the password does not replace it)',
  },
);

const CredentialBase = {
  id: b64url(1024, 'The credential id'),
  rawId: b64url(1024, 'The credential id again'),
  type: Type.Literal('public-key'),
  authenticatorAttachment: Type.Optional(
    Type.String({ maxLength: 32, description: 'platform or cross-platform' }),
  ),
  clientExtensionResults: Type.Optional(Loose({}, 'Extension outputs (none are asked for)')),
};

export const RegistrationCredential = Type.Object(
  {
    ...CredentialBase,
    response: Loose(
      {
        clientDataJSON: b64url(8192, 'The client data'),
        attestationObject: b64url(65_536, 'The attestation object (CBOR)'),
        transports: Type.Optional(Transports),
      },
      'The authenticator’s attestation response',
    ),
  },
  {
    title: 'RegistrationCredential',
    description:
      'What `navigator.credentials.create()` returned, as its `toJSON()` gives it (PublicKeyCredential, RegistrationResponseJSON)',
    additionalProperties: false,
  },
);

export const PasskeyRegisterBody = Strict(
  { name: PasskeyName, credential: RegistrationCredential },
  { title: 'PasskeyRegisterBody' },
);

export const AuthenticationCredential = Type.Object(
  {
    ...CredentialBase,
    response: Loose(
      {
        clientDataJSON: b64url(8192, 'The client data'),
        authenticatorData: b64url(8192, 'The authenticator data'),
        signature: b64url(1024, 'The assertion signature'),
        userHandle: Type.Optional(b64url(128, 'The user handle the passkey was made for')),
      },
      'The authenticator’s assertion response',
    ),
  },
  {
    title: 'AuthenticationCredential',
    description:
      'What `navigator.credentials.get()` returned, as its `toJSON()` gives it (AuthenticationResponseJSON)',
    additionalProperties: false,
  },
);

export const PasskeyVerifyBody = Strict(
  {
    challengeId: Type.String({
      ...Uuid,
      description: 'The `challengeId` of POST /auth/passkey/options',
    }),
    credential: AuthenticationCredential,
  },
  { title: 'PasskeyVerifyBody' },
);

const Descriptor = Loose(
  { id: Type.String(), type: Type.String(), transports: Type.Optional(Type.Array(Type.String())) },
  'A credential',
);

export const PasskeyCreationOptions = Loose(
  {
    challenge: Type.String({ description: 'Base64url; single use, 5 minutes' }),
    rp: Loose({ id: Type.Optional(Type.String()), name: Type.String() }, 'The relying party'),
    user: Loose(
      { id: Type.String(), name: Type.String(), displayName: Type.String() },
      'The account (its id is an opaque user handle)',
    ),
    pubKeyCredParams: Type.Array(
      Loose({ alg: Type.Integer(), type: Type.String() }, 'An algorithm'),
    ),
    timeout: Type.Optional(Type.Integer()),
    excludeCredentials: Type.Optional(Type.Array(Descriptor)),
    authenticatorSelection: Type.Optional(Loose({}, 'Resident key and user verification required')),
    attestation: Type.Optional(Type.String()),
    hints: Type.Optional(Type.Array(Type.String())),
    extensions: Type.Optional(Loose({}, 'Extensions')),
  },
  'PublicKeyCredentialCreationOptionsJSON: pass it to `PublicKeyCredential.parseCreationOptionsFromJSON()`',
);

export const PasskeyRegistrationOptions = Type.Object(
  { publicKey: PasskeyCreationOptions },
  {
    title: 'PasskeyRegistrationOptions',
    description:
      'For `navigator.credentials.create({ publicKey })`: a discoverable credential, user verification required, no attestation',
  },
);

export const PasskeyRequestOptions = Loose(
  {
    challenge: Type.String({ description: 'Base64url; single use, 5 minutes' }),
    rpId: Type.Optional(Type.String()),
    timeout: Type.Optional(Type.Integer()),
    userVerification: Type.Optional(Type.String()),
    allowCredentials: Type.Optional(Type.Array(Descriptor)),
    hints: Type.Optional(Type.Array(Type.String())),
    extensions: Type.Optional(Loose({}, 'Extensions')),
  },
  'PublicKeyCredentialRequestOptionsJSON: pass it to `PublicKeyCredential.parseRequestOptionsFromJSON()`',
);

export const PasskeySignInOptions = Type.Object(
  {
    challengeId: Type.String({ ...Uuid, description: 'Send it back with the credential' }),
    expiresIn: Type.Integer({ description: 'Seconds the challenge lives (300)' }),
    publicKey: PasskeyRequestOptions,
  },
  {
    title: 'PasskeySignInOptions',
    description:
      'For `navigator.credentials.get({ publicKey })`: no user named (`allowCredentials` is empty), user verification required',
  },
);

export const Passkey = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    deviceType: Type.String({
      description: '`singleDevice`, or `multiDevice` for a passkey synced between devices',
    }),
    backedUp: Type.Boolean({ description: 'Whether the passkey is backed up (synced)' }),
    transports: Type.Array(Type.String()),
    createdAt: Timestamp,
    lastUsedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { title: 'Passkey', description: 'A passkey of yours: never its key' },
);

export const PasskeyList = Type.Object(
  {
    items: Type.Array(Passkey, { maxItems: 10 }),
  },
  {
    title: 'PasskeyList',
    description: 'All your passkeys, oldest first (at most 10, so the list is never paged)',
  },
);
