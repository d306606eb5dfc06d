import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, login, type TestUser } from '../helpers/users.js';
import {
  ACCESS_HEADER,
  accessClaims,
  expectUnauthorized,
  GENEROUS_LIMITS,
  get,
  hmacJwt,
  type JwtHeader,
  type JwtPayload,
  me,
  post,
  registerAndReadToken,
  resetTokenFor,
  sessionIdOf,
  unsignedJwt,
} from './support.js';

/**
 * RFC 8725 attacks on the access token. Each forged token is presented to GET /users/me and
 * must get 401 with WWW-Authenticate. The first test proves the forge itself is right: the same
 * harness with the right key and claims produces a token the service accepts.
 */

let t: TestContext;
let alice: TestUser;
let bob: TestUser;
let aliceSession: string;
let secret: string;
/** A loopback listener that plays the attacker's key server (jku, x5u); it must never be called. */
let keyServer: Server;
let keyServerUrl: string;
let keyServerConnections = 0;

beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
  secret = t.config.jwtSecret;
  const a = await createUser(t);
  const b = await createUser(t);
  alice = await login(t, a.email, a.password);
  bob = await login(t, b.email, b.password);
  aliceSession = sessionIdOf(alice.accessToken);

  keyServer = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [] }));
  });
  keyServer.on('connection', () => {
    keyServerConnections += 1;
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', () => resolve()));
  keyServerUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => keyServer.close(() => resolve()));
  await t.close();
});

const claims = (overrides: JwtPayload = {}) => ({
  ...accessClaims(t, alice.id, aliceSession),
  ...overrides,
});
const without = (payload: JwtPayload, key: string) => {
  const { [key]: _dropped, ...rest } = payload;
  return rest;
};
const sign = (header: JwtHeader, payload: JwtPayload) => hmacJwt(header, payload, secret);

async function expectRefused(token: string) {
  const res = await me(t, token);
  expectUnauthorized(res, res.json().code === 'token_expired' ? 'token_expired' : 'unauthorized');
}

describe('the forge is sound', () => {
  it('a token minted with the service’s key and claims is accepted', async () => {
    const res = await me(t, sign(ACCESS_HEADER, claims()));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().id).toBe(alice.id);
  });

  it('so is one made with jose’s SignJWT the same way', async () => {
    const now = Math.floor(t.clock.now().getTime() / 1000);
    const token = await new SignJWT({ sid: aliceSession, token_use: 'access' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject(alice.id)
      .setIssuer('homefront')
      .setAudience('homefront-api')
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 60)
      .sign(new TextEncoder().encode(secret));
    expect((await me(t, token)).statusCode).toBe(200);
  });
});

describe('signature attacks → 401', () => {
  it('alg none, with and without a typ, and with an empty-looking signature', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await expectRefused(unsignedJwt({ alg, typ: 'at+jwt' }, claims()));
      await expectRefused(unsignedJwt({ alg }, claims()));
    }
  });

  it('a tampered payload under the original signature (another user, another session)', async () => {
    const [header, , signature] = alice.accessToken.split('.');
    for (const payload of [
      { ...claims(), sub: bob.id, sid: sessionIdOf(bob.accessToken) },
      { ...claims(), exp: 4_102_444_800 },
    ]) {
      const forged = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
      await expectRefused(forged);
    }
  });

  it('a truncated, emptied or altered signature', async () => {
    const token = alice.accessToken;
    const [header, payload, signature = ''] = token.split('.');
    await expectRefused(token.slice(0, -1));
    await expectRefused(token.slice(0, -10));
    await expectRefused(`${header}.${payload}.`);
    await expectRefused(`${header}.${payload}`);
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    await expectRefused(`${header}.${payload}.${flipped}`);
    // The genuine token still works: only the alterations were refused.
    expect((await me(t, token)).statusCode).toBe(200);
  });

  it('signed with a wrong key', async () => {
    await expectRefused(hmacJwt(ACCESS_HEADER, claims(), `${secret}x`));
    await expectRefused(hmacJwt(ACCESS_HEADER, claims(), 'secret'));
    await expectRefused(hmacJwt(ACCESS_HEADER, claims(), ''));
  });
});

describe('algorithm confusion → 401 (the verifier pins HS256)', () => {
  it('HS384 and HS512 with the service’s own secret', async () => {
    await expectRefused(hmacJwt({ alg: 'HS384', typ: 'at+jwt' }, claims(), secret, 'sha384'));
    await expectRefused(hmacJwt({ alg: 'HS512', typ: 'at+jwt' }, claims(), secret, 'sha512'));
  });

  it('HS512 signed with SHA-256 but labelled HS512, and the reverse', async () => {
    await expectRefused(hmacJwt({ alg: 'HS512', typ: 'at+jwt' }, claims(), secret, 'sha256'));
    await expectRefused(hmacJwt({ alg: 'HS256', typ: 'at+jwt' }, claims(), secret, 'sha512'));
  });

  it('RS256 and ES256 with a key pair of the attacker’s', async () => {
    for (const alg of ['RS256', 'ES256', 'PS256']) {
      const { privateKey } = await generateKeyPair(alg);
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg, typ: 'at+jwt' })
        .sign(privateKey);
      await expectRefused(token);
    }
  });
});

describe('header tricks: kid, jku, x5u, jwk → 401, and no key is ever fetched', () => {
  const hostileKids = [
    "' UNION SELECT 'attacker-key' --",
    "x' OR '1'='1",
    '../../../../../../dev/null',
    '/dev/null',
    '../../.jwt-secret',
    'file:///etc/passwd',
    '',
  ];

  it.each(hostileKids)('kid %j with a token signed by a key the attacker controls', async (kid) => {
    for (const key of ['attacker-key', '', 'null', '\0']) {
      await expectRefused(hmacJwt({ ...ACCESS_HEADER, kid }, claims(), key));
    }
  });

  it('jku and x5u at a loopback key server, signed with the attacker’s RS256 key', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'attacker', alg: 'RS256' };
    const headers: JwtHeader[] = [
      { alg: 'RS256', typ: 'at+jwt', kid: 'attacker', jku: `${keyServerUrl}/jwks.json` },
      { alg: 'RS256', typ: 'at+jwt', x5u: `${keyServerUrl}/cert.pem` },
      { alg: 'RS256', typ: 'at+jwt', jwk },
    ];
    for (const header of headers) {
      const token = await new SignJWT(claims())
        .setProtectedHeader(header as { alg: string })
        .sign(privateKey);
      await expectRefused(token);
    }
    // The same headers on an HS256 token signed with a key of the attacker's.
    await expectRefused(
      hmacJwt({ ...ACCESS_HEADER, jku: `${keyServerUrl}/jwks.json` }, claims(), 'attacker'),
    );
    await expectRefused(
      hmacJwt(
        { ...ACCESS_HEADER, jwk: { kty: 'oct', k: Buffer.from('attacker').toString('base64url') } },
        claims(),
        'attacker',
      ),
    );
    expect(keyServerConnections).toBe(0);
  });
});

describe('claims: exp, nbf, iss, aud, typ, token_use → 401', () => {
  it('a token without exp, iat or nbf', async () => {
    await expectRefused(sign(ACCESS_HEADER, without(claims(), 'exp')));
    await expectRefused(sign(ACCESS_HEADER, without(claims(), 'iat')));
    await expectRefused(sign(ACCESS_HEADER, without(claims(), 'nbf')));
  });

  it('time claims that are not numbers', async () => {
    for (const claim of ['iat', 'nbf', 'exp']) {
      const value = claims()[claim] as number;
      await expectRefused(sign(ACCESS_HEADER, claims({ [claim]: String(value) })));
      await expectRefused(sign(ACCESS_HEADER, claims({ [claim]: null })));
    }
  });

  it('a token without sub or sid', async () => {
    await expectRefused(sign(ACCESS_HEADER, without(claims(), 'sub')));
    await expectRefused(sign(ACCESS_HEADER, without(claims(), 'sid')));
  });

  it('a wrong, missing or list-smuggled issuer', async () => {
    await expectRefused(sign(ACCESS_HEADER, claims({ iss: 'homefront-evil' })));
    await expectRefused(sign(ACCESS_HEADER, claims({ iss: 'https://homefront' })));
    await expectRefused(sign(ACCESS_HEADER, without(claims(), 'iss')));
  });

  it('a wrong or missing audience', async () => {
    await expectRefused(sign(ACCESS_HEADER, claims({ aud: 'another-api' })));
    await expectRefused(sign(ACCESS_HEADER, claims({ aud: ['another-api'] })));
    await expectRefused(sign(ACCESS_HEADER, without(claims(), 'aud')));
  });

  it('a wrong or missing typ header', async () => {
    for (const typ of ['JWT', 'jwt', 'refresh+jwt', 'application/jwt', undefined]) {
      await expectRefused(sign({ alg: 'HS256', ...(typ !== undefined && { typ }) }, claims()));
    }
  });

  it('a missing token_use, or any token_use but access', async () => {
    await expectRefused(sign(ACCESS_HEADER, without(claims(), 'token_use')));
    for (const use of ['refresh', 'id', 'verify_email', 'reset_password', 'ACCESS', true]) {
      await expectRefused(sign(ACCESS_HEADER, claims({ token_use: use })));
    }
  });

  it('sub and sid that are not ids, or that do not belong together', async () => {
    await expectRefused(sign(ACCESS_HEADER, claims({ sub: "1' or '1'='1" })));
    await expectRefused(sign(ACCESS_HEADER, claims({ sid: 42 })));
    // Bob's identity with Alice's session: a valid signature, but the pair does not exist.
    await expectRefused(sign(ACCESS_HEADER, claims({ sub: bob.id })));
  });
});

describe('time claims at their edges: 30 s of tolerance, no more (SECURITY.md)', () => {
  const TOLERANCE = 30;
  const nowSeconds = () => Math.floor(t.clock.now().getTime() / 1000);
  const accepted = async (token: string) => {
    const res = await me(t, token);
    expect(res.statusCode, res.body).toBe(200);
  };

  it('nbf: 29 s ahead is accepted, 31 s ahead refused', async () => {
    const now = nowSeconds();
    await accepted(sign(ACCESS_HEADER, claims({ nbf: now + TOLERANCE - 1 })));
    await expectRefused(sign(ACCESS_HEADER, claims({ nbf: now + TOLERANCE + 1 })));
    await expectRefused(sign(ACCESS_HEADER, claims({ nbf: now + 3600 })));
  });

  it('iat: 29 s ahead is accepted, 31 s ahead refused (a token from the future)', async () => {
    const now = nowSeconds();
    const ahead = (seconds: number) =>
      claims({ iat: now + seconds, nbf: now, exp: now + seconds + t.config.accessTokenTtl });
    await accepted(sign(ACCESS_HEADER, ahead(TOLERANCE - 1)));
    await expectRefused(sign(ACCESS_HEADER, ahead(TOLERANCE + 1)));
  });

  it('exp: 29 s past is accepted, 30 s past is 401 token_expired', async () => {
    const now = nowSeconds();
    const lapsed = (seconds: number) => {
      const exp = now - seconds;
      return claims({ iat: exp - 60, nbf: exp - 60, exp });
    };
    await accepted(sign(ACCESS_HEADER, lapsed(TOLERANCE - 1)));
    expectUnauthorized(await me(t, sign(ACCESS_HEADER, lapsed(TOLERANCE))), 'token_expired');
    expectUnauthorized(await me(t, sign(ACCESS_HEADER, lapsed(3600))), 'token_expired');
  });

  it('iat older than the lifetime the service issues is refused, whatever exp says', async () => {
    const now = nowSeconds();
    const ttl = t.config.accessTokenTtl;
    const issued = (age: number) => claims({ iat: now - age, nbf: now - age, exp: now + 86_400 });
    await accepted(sign(ACCESS_HEADER, issued(ttl + TOLERANCE - 1)));
    expectUnauthorized(
      await me(t, sign(ACCESS_HEADER, issued(ttl + TOLERANCE + 1))),
      'token_expired',
    );
  });

  it('a genuine token moved past its expiry on the clock: fine at exp + 29 s, dead at exp + 30 s', async () => {
    const user = await createUser(t);
    const session = await login(t, user.email, user.password);
    expect((await me(t, session.accessToken)).statusCode).toBe(200); // now also remembered
    t.clock.advance(t.config.accessTokenTtl + TOLERANCE - 1);
    expect((await me(t, session.accessToken)).statusCode).toBe(200);
    t.clock.advance(1);
    expectUnauthorized(await me(t, session.accessToken), 'token_expired');
  });

  it('a long-lived forged exp stops working once its iat is older than the lifetime', async () => {
    const now = nowSeconds();
    const token = sign(ACCESS_HEADER, claims({ iat: now, nbf: now, exp: now + 10 * 365 * 86_400 }));
    await accepted(token); // and now remembered by the verifier
    t.clock.advance(t.config.accessTokenTtl + TOLERANCE + 1);
    expectUnauthorized(await me(t, token), 'token_expired');
  });
});

describe('one token type used as another → 401', () => {
  it('a refresh token as a bearer token', async () => {
    await expectRefused(alice.refreshToken);
  });

  it('a verification token as a bearer token', async () => {
    const { token } = await registerAndReadToken(t);
    await expectRefused(token);
    expect((await post(t, '/auth/verify-email', { token })).statusCode).toBe(200);
  });

  it('a reset token as a bearer token', async () => {
    const victim = await createUser(t);
    const resetToken = await resetTokenFor(t, victim.email);
    await expectRefused(resetToken);
    // Still a valid reset token afterwards: presenting it as a bearer did not touch it.
    const reset = await post(t, '/auth/reset-password', {
      token: resetToken,
      newPassword: 'a fresh and unusual passphrase 7',
    });
    expect(reset.statusCode).toBe(204);
  });
});

describe('a well-formed, correctly signed token for a session that is no longer live → 401', () => {
  it('after logout, the genuine token and a freshly minted one for that session both fail', async () => {
    const user = await createUser(t);
    const session = await login(t, user.email, user.password);
    const sid = sessionIdOf(session.accessToken);
    expect((await post(t, '/auth/logout', undefined, session.accessToken)).statusCode).toBe(204);
    await expectRefused(session.accessToken);
    await expectRefused(sign(ACCESS_HEADER, accessClaims(t, session.id, sid)));
  });

  it('a random session id that never existed', async () => {
    await expectRefused(
      sign(ACCESS_HEADER, claims({ sid: '0190a5c4-0000-7000-8000-000000000000' })),
    );
  });
});

describe('the Authorization header itself', () => {
  it.each([
    ['no header', undefined],
    ['an empty bearer', 'Bearer '],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['a token with spaces', 'Bearer abc def ghi jkl'],
    ['garbage', 'Bearer !!!!!!!!!!!!!!!!'],
  ])('%s → 401 with WWW-Authenticate', async (_label, header) => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/users/me',
      ...(header !== undefined && { headers: { authorization: header } }),
    });
    expectUnauthorized(res);
  });
});

describe('roles are not in the token: a demotion takes effect on the next request', () => {
  it('an admin demoted by another admin gets 403 with the very token that worked a moment ago', async () => {
    const first = await createUser(t, ['admin', 'homeowner']);
    const second = await createUser(t, ['admin']);
    const demoted = await login(t, first.email, first.password);
    const demoter = await login(t, second.email, second.password);
    expect((await get(t, '/admin/users', demoted.accessToken)).statusCode).toBe(200);

    const res = await t.app.inject({
      method: 'DELETE',
      url: `/admin/users/${demoted.id}/roles/admin`,
      headers: demoter.headers,
    });
    expect(res.statusCode).toBe(204);

    const after = await get(t, '/admin/users', demoted.accessToken);
    expect(after.statusCode).toBe(403);
    expect(after.json().code).toBe('forbidden');
    expect((await me(t, demoted.accessToken)).json().roles).toEqual(['homeowner']);
  });
});
