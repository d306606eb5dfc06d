import { createHash, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../../config.js';
import { type Assurance, PASSWORD_ONLY } from '../../kernel/guards.js';
import type { Clock } from '../../lib/clock.js';
import { tokenExpired, unauthorized } from '../../lib/errors.js';

/** Opaque tokens (refresh, verification, reset): 256 random bits, stored only as SHA-256. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

export interface AccessClaims {
  userId: string;
  sessionId: string;
}

/** What a verified token says: its claims and when it stops being accepted (its exp). */
export interface VerifiedAccess extends AccessClaims {
  expiresAt: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

const ISSUER = 'homefront';
const AUDIENCE = 'homefront-api';
const ALGORITHM = 'HS256';
/** RFC 9068's media type for access tokens; a JWT of any other type is refused. */
const TOKEN_TYPE = 'at+jwt';
const CLOCK_TOLERANCE_SECONDS = 30;
const VERIFIED_CACHE_SIZE = 10_000;

export class AccessTokens {
  /** Imported once: given raw bytes, jose would import a WebCrypto key on every call. */
  private readonly key: KeyObject;
  private readonly ttl: number;

  constructor(
    config: Pick<Config, 'jwtSecret' | 'accessTokenTtl'>,
    private readonly clock: Clock,
  ) {
    this.key = createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
    this.ttl = config.accessTokenTtl;
  }

  /**
   * The token repeats the session's assurance for clients (`amr`, `aal`, and `aal2_at`, when aal2
   * was last proven, in seconds); the guards read it from the session row, which step-up raises
   * without waiting for a new token.
   */
  sign(claims: AccessClaims & { assurance?: Assurance }): Promise<string> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const { aal, amr, aal2At } = claims.assurance ?? PASSWORD_ONLY;
    return new SignJWT({
      sid: claims.sessionId,
      token_use: 'access',
      amr,
      aal,
      ...(aal2At ? { aal2_at: Math.floor(aal2At.getTime() / 1000) } : {}),
    })
      .setProtectedHeader({ alg: ALGORITHM, typ: TOKEN_TYPE })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + this.ttl)
      .sign(this.key);
  }

  get expiresIn(): number {
    return this.ttl;
  }

  /**
   * Only HS256 with our key, our issuer and audience, the access type, and every time claim
   * (iat, nbf, exp) present and true of the clock within the tolerance: not before nbf, not after
   * exp, not issued in the future, and not older than the lifetime we issue, whatever exp says.
   * Header fields such as kid, jku, x5u or jwk are never consulted: there is one key.
   */
  async verify(token: string): Promise<VerifiedAccess> {
    const known = this.verified.get(token);
    if (known) {
      if (this.clock.now().getTime() >= known.notAfter) {
        this.verified.delete(token);
        throw tokenExpired();
      }
      return known.claims;
    }
    return this.verifySignedToken(token);
  }

  /**
   * A token's signature and claims never change, so a verified token is remembered until it
   * expires: the hot path then skips the HMAC. Nothing else is cached: the session and the
   * user's permissions are still read from the database on every request.
   */
  private readonly verified = new Map<string, { claims: VerifiedAccess; notAfter: number }>();

  /** Remembered until the first of its expiry and the end of the lifetime we issue. */
  private remember(token: string, claims: VerifiedAccess, exp: number, iat: number) {
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    const lastSecond = Math.min(exp, iat + this.ttl) + CLOCK_TOLERANCE_SECONDS;
    this.verified.set(token, { claims, notAfter: lastSecond * 1000 });
  }

  private async verifySignedToken(token: string): Promise<VerifiedAccess> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: AUDIENCE,
        typ: TOKEN_TYPE,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: this.clock.now(),
        maxTokenAge: this.ttl,
        requiredClaims: ['exp', 'iat', 'nbf', 'sub', 'sid'],
      });
      if (payload.token_use !== 'access' || !isUuid(payload.sid) || !isUuid(payload.sub)) {
        throw unauthorized('The access token is invalid.');
      }
      // The earlier of exp and the end of the lifetime we issue, as verify() enforces it.
      const lastSecond = Math.min(payload.exp as number, (payload.iat as number) + this.ttl);
      const claims = {
        userId: payload.sub,
        sessionId: payload.sid,
        expiresAt: new Date(lastSecond * 1000),
      };
      this.remember(token, claims, payload.exp as number, payload.iat as number);
      return claims;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw tokenExpired();
      throw unauthorized('The access token is invalid.');
    }
  }
}
