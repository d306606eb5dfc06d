import { randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';

/** RFC 6238 as every authenticator app reads it: SHA-1, 6 digits, 30-second steps. */
const PERIOD = 30;
const DIGITS = 6;
const ISSUER = 'Homefront';
/** ±1 step of clock drift between the phone and the server. */
const WINDOW = 1;

function totp(secret: string, label: string) {
  return new TOTP({
    issuer: ISSUER,
    label,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD,
    secret: Secret.fromBase32(secret),
  });
}

/** A new shared secret: 160 random bits (RFC 4226's recommendation), base32 as apps expect. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI an authenticator app imports, and the same as a QR code in SVG. */
export async function provisioning(secret: string, email: string) {
  const otpauthUri = totp(secret, email).toString();
  const qrSvg = await QRCode.toString(otpauthUri, {
    type: 'svg',
    errorCorrectionLevel: 'M',
    margin: 2,
  });
  return { otpauthUri, qrSvg };
}

/** The 30-second step `now` falls in. */
export const stepAt = (now: Date) => Math.floor(now.getTime() / 1000 / PERIOD);

/**
 * The step a code belongs to, if it is valid at `now` within ±1 step; undefined otherwise.
 * Whether that step was already used (a replay) is the caller's compare-and-set.
 */
export function matchingStep(secret: string, code: string, now: Date): number | undefined {
  const delta = totp(secret, 'check').validate({
    token: code,
    timestamp: now.getTime(),
    window: WINDOW,
  });
  return delta === null ? undefined : stepAt(now) + delta;
}

/** The code of a step: for tests and the docs, which compute codes as an app would. */
export function codeAt(secret: string, now: Date): string {
  return totp(secret, 'code').generate({ timestamp: now.getTime() });
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Ten recovery codes `xxxxx-xxxxx` (31 letters and digits, no look-alikes: ~49 bits each). */
export function newRecoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => {
    const chars = Array.from(
      { length: 10 },
      () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)],
    );
    return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
  });
}

/** The form a recovery code is hashed in: lower case, no dash or spaces. */
export const normalRecoveryCode = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');
