/** The few API calls the bench makes itself: logins for tokens, and walking the catalog. */

export async function login(baseUrl: string, email: string, password: string): Promise<string> {
  const response = await fetch(`${baseUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || !body.access_token) {
    throw new Error(`login of ${email} answered ${response.status}: ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

export async function userId(baseUrl: string, token: string): Promise<string> {
  const response = await fetch(`${baseUrl}/users/me`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as { id?: string };
  if (response.status !== 200 || !body.id) throw new Error(`/users/me answered ${response.status}`);
  return body.id;
}

/**
 * The cursor of catalog page `page` (limit 20), found by following nextCursor from page 1; undefined
 * when the route is missing or the catalog is shorter.
 */
export async function deepCursor(
  baseUrl: string,
  token: string,
  page: number,
): Promise<string | undefined> {
  let cursor: string | undefined;
  for (let current = 1; current < page; current++) {
    const query = cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const response = await fetch(`${baseUrl}/services?limit=20${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (response.status !== 200) {
      await response.arrayBuffer();
      return undefined;
    }
    const body = (await response.json()) as { nextCursor: string | null };
    if (!body.nextCursor) return undefined;
    cursor = body.nextCursor;
  }
  return cursor;
}

/** The session id (`sid`) of an access token, read without verifying it. */
export function sessionIdOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  if (typeof payload.sid !== 'string') throw new Error('access token without sid');
  return payload.sid;
}
