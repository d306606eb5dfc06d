import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/**
 * Seals TOTP secrets at rest: AES-256-GCM with a key derived (HKDF-SHA-256) from
 * MFA_ENCRYPTION_KEY alone, never from JWT_SECRET, so a leaked signing key opens no
 * authenticator and either can rotate apart. The user id is the associated data: a sealed secret
 * copied onto another user's row does not open.
 */
export class TotpSecretSealer {
  private readonly key: Buffer;

  constructor(encryptionKey: string) {
    this.key = Buffer.from(
      hkdfSync('sha256', encryptionKey, 'homefront', 'mfa-totp-secret-v1', 32),
    );
  }

  seal(userId: string, secret: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(userId, 'utf8'));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), body]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** Throws on a wrong key, a tampered value or another user's secret. */
  open(userId: string, sealed: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || body === undefined) {
      throw new Error('not a sealed TOTP secret');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(userId, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(body, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  }
}
