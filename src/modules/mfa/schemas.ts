import { Type } from 'typebox';
import { Strict } from '../../lib/schemas.js';
import { CurrentPassword, OpaqueToken } from '../auth/schemas.js';

export const TotpCode = Type.String({
  minLength: 6,
  maxLength: 6,
  pattern: '^[0-9]{6}$',
  description: 'The 6-digit code your authenticator app shows now',
  examples: ['123456'],
});

export const RecoveryCode = Type.String({
  minLength: 10,
  maxLength: 11,
  pattern: '^[A-Za-z0-9]{5}-?[A-Za-z0-9]{5}$',
  description: 'One of the recovery codes shown at enrolment (`xxxxx-xxxxx`); each works once',
  examples: ['ab3de-fgh7k'],
});

export const MfaChallenge = Type.String({
  ...OpaqueToken,
  description: 'The `challenge` of the 401 `mfa_required` answer of POST /auth/login',
});

export const MfaVerifyBody = Type.Union(
  [
    Strict({ challenge: MfaChallenge, code: TotpCode }, { title: 'MfaVerifyWithCode' }),
    Strict(
      { challenge: MfaChallenge, recoveryCode: RecoveryCode },
      { title: 'MfaVerifyWithRecoveryCode' },
    ),
  ],
  {
    title: 'MfaVerifyBody',
    description: 'The challenge with a current code, or with one of the recovery codes',
  },
);

export const StepUpBody = Type.Union(
  [
    Strict({ code: TotpCode }, { title: 'StepUpWithCode' }),
    Strict({ recoveryCode: RecoveryCode }, { title: 'StepUpWithRecoveryCode' }),
  ],
  { title: 'StepUpBody', description: 'A current code, or one of the recovery codes' },
);

/** Regenerating recovery codes and disabling MFA: the password and a second factor. */
export const MfaChangeBody = Type.Union(
  [
    Strict({ password: CurrentPassword, code: TotpCode }, { title: 'MfaChangeWithCode' }),
    Strict(
      { password: CurrentPassword, recoveryCode: RecoveryCode },
      { title: 'MfaChangeWithRecoveryCode' },
    ),
  ],
  {
    title: 'MfaChangeBody',
    description: 'The password and a current code (or one of the recovery codes)',
  },
);

export const TotpEnrolBody = Strict({ password: CurrentPassword }, { title: 'TotpEnrolBody' });
export const TotpConfirmBody = Strict({ code: TotpCode }, { title: 'TotpConfirmBody' });

export const TotpEnrolment = Type.Object(
  {
    secret: Type.String({
      description: 'The shared secret in base32, for typing into an app by hand',
    }),
    otpauthUri: Type.String({ description: 'The `otpauth://totp/…` URI an app imports' }),
    qrSvg: Type.String({ description: 'The URI as a QR code, an SVG document made on the server' }),
  },
  {
    title: 'TotpEnrolment',
    description: 'A pending authenticator: scan or type it, then confirm with a code',
  },
);

export const RecoveryCodes = Type.Object(
  {
    recoveryCodes: Type.Array(Type.String(), {
      minItems: 10,
      maxItems: 10,
      description: 'Shown this once: each signs in once when the authenticator is lost',
    }),
  },
  { title: 'RecoveryCodes' },
);

export const MfaStatus = Type.Object(
  {
    totp: Type.Boolean({ description: 'Two-factor sign-in with an authenticator app is on' }),
    recoveryCodesLeft: Type.Integer({ minimum: 0, maximum: 10 }),
  },
  { title: 'MfaStatus' },
);

export const StepUpResult = Type.Object(
  {
    access_token: Type.String({ description: 'A JWT that carries the raised level' }),
    token_type: Type.Literal('bearer'),
    expires_in: Type.Integer({ description: 'Access token lifetime in seconds' }),
    aal: Type.Integer({ minimum: 1, maximum: 2 }),
    amr: Type.Array(Type.String(), { description: 'The methods this session has proven' }),
  },
  {
    title: 'StepUpResult',
    description:
      'The session is at aal2 from now on (its refresh token stays the same); this access token says so',
  },
);
