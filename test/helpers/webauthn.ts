import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { expect } from 'vitest';
import type { TestContext } from './app.js';
import type { TestUser } from './users.js';

/**
 * A software authenticator for API-level tests: a real P-256 key pair, real authenticator data
 * and a 'none' attestation in CBOR, real ES256 signatures. What a browser and a platform
 * authenticator would send, built by hand so each field can also be made wrong. Below it, the
 * ceremonies the passkey tests run through the API with it (registration, sign-in).
 */

type Cbor = number | string | Uint8Array | Cbor[] | Map<number | string, Cbor>;

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) {
    const out = Buffer.alloc(3);
    out[0] = (major << 5) | 25;
    out.writeUInt16BE(length, 1);
    return out;
  }
  const out = Buffer.alloc(5);
  out[0] = (major << 5) | 26;
  out.writeUInt32BE(length, 1);
  return out;
}

/** A tiny CBOR encoder (RFC 8949): integers, byte and text strings, arrays, maps. */
export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') {
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  const entries = [...value.entries()];
  return Buffer.concat([
    head(5, entries.length),
    ...entries.flatMap(([key, inner]) => [cbor(key), cbor(inner)]),
  ]);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64 = (data: Buffer | Uint8Array) => Buffer.from(data).toString('base64url');

export const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 };

export interface CeremonyOptions {
  origin?: string;
  rpId?: string;
  flags?: number;
  type?: string;
  challenge?: string;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  counter = 0;
  /** The user handle of the account the passkey was made for (from the registration options). */
  userHandle: string | undefined;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  constructor(
    readonly rpId: string,
    readonly origin: string,
    /** Whether the counter moves (false: an authenticator that keeps none, counter 0). */
    readonly counts = true,
  ) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  get id(): string {
    return b64(this.credentialId);
  }

  private coseKey(): Buffer {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return cbor(
      new Map<number, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x ?? '', 'base64url')],
        [-3, Buffer.from(jwk.y ?? '', 'base64url')],
      ]),
    );
  }

  private authData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, attested ?? Buffer.alloc(0)]);
  }

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** `navigator.credentials.create()`'s answer to `publicKey` (the API's creation options). */
  create(publicKey: { challenge: string; user: { id: string } }, options: CeremonyOptions = {}) {
    this.userHandle = publicKey.user.id;
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, this.coseKey()]);
    const flags = options.flags ?? FLAGS.UP | FLAGS.UV | FLAGS.AT;
    const authData = this.authData(options.rpId ?? this.rpId, flags, 0, attested);
    const attestationObject = cbor(
      new Map<string, Cbor>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    const clientDataJSON = this.clientData(
      options.type ?? 'webauthn.create',
      options.challenge ?? publicKey.challenge,
      options.origin ?? this.origin,
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
      response: {
        clientDataJSON: b64(clientDataJSON),
        attestationObject: b64(attestationObject),
        transports: ['internal'],
      },
    };
  }

  /** `navigator.credentials.get()`'s answer to `publicKey`; the counter moves first. */
  get(
    publicKey: { challenge: string },
    options: CeremonyOptions & { counter?: number; userHandle?: string | null } = {},
  ) {
    if (this.counts) this.counter += 1;
    const counter = options.counter ?? this.counter;
    const flags = options.flags ?? FLAGS.UP | FLAGS.UV;
    const authData = this.authData(options.rpId ?? this.rpId, flags, counter);
    const clientDataJSON = this.clientData(
      options.type ?? 'webauthn.get',
      options.challenge ?? publicKey.challenge,
      options.origin ?? this.origin,
    );
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), {
      key: this.privateKey,
      dsaEncoding: 'der',
    });
    const userHandle = options.userHandle === undefined ? this.userHandle : options.userHandle;
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
      response: {
        clientDataJSON: b64(clientDataJSON),
        authenticatorData: b64(authData),
        signature: b64(signature),
        ...(userHandle === null || userHandle === undefined ? {} : { userHandle }),
      },
    };
  }
}

/** The relying party every passkeys test app is configured as. */
export const RP_ID = 'app.test';
export const ORIGIN = 'https://app.test';
export const WEBAUTHN_ENV = {
  WEBAUTHN_RP_ID: RP_ID,
  WEBAUTHN_ORIGINS: `${ORIGIN},https://m.app.test`,
};

export const newAuthenticator = (counts = true) => new SoftAuthenticator(RP_ID, ORIGIN, counts);

/** Who asks for creation options: signed in, with the password (none after a fresh step-up). */
type Registrant = Pick<TestUser, 'headers'> & { password?: string };

export async function registrationOptions(t: TestContext, user: Registrant, body: object = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/users/me/passkeys/options',
    headers: user.headers,
    payload: { password: user.password, ...body },
  });
}

/** Sends `credential` (an authenticator's answer, or anything in its place) as a new passkey. */
export function registerCredential(
  t: TestContext,
  user: Pick<TestUser, 'headers'>,
  credential: unknown,
  name = 'Key',
) {
  return t.app.inject({
    method: 'POST',
    url: '/users/me/passkeys',
    headers: user.headers,
    payload: { name, credential },
  });
}

/** Registers a passkey held by `authenticator` to `user`, through the API. */
export async function registerPasskey(
  t: TestContext,
  user: TestUser,
  authenticator = newAuthenticator(),
  name = 'Laptop',
) {
  const options = await registrationOptions(t, user);
  expect(options.statusCode, options.body).toBe(200);
  const res = await registerCredential(
    t,
    user,
    authenticator.create(options.json().publicKey),
    name,
  );
  expect(res.statusCode, res.body).toBe(201);
  return { authenticator, passkey: res.json() as { id: string; name: string } };
}

export async function signInOptions(t: TestContext) {
  const res = await t.app.inject({ method: 'POST', url: '/auth/passkey/options' });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    challengeId: string;
    expiresIn: number;
    publicKey: { challenge: string; allowCredentials?: unknown[] };
  };
}

export function verify(t: TestContext, challengeId: string, credential: unknown, headers = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/auth/passkey/verify',
    headers,
    payload: { challengeId, credential },
  });
}

/** A whole passkey sign-in: options, the authenticator's assertion, verify. */
export async function signInWithPasskey(t: TestContext, authenticator: SoftAuthenticator) {
  const { challengeId, publicKey } = await signInOptions(t);
  return verify(t, challengeId, authenticator.get(publicKey));
}
