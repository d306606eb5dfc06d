import type { IncomingHttpHeaders } from 'node:http';
import { expect } from 'vitest';

/** What a test needs from a response, whether it came from inject, fetch-like code or a socket. */
export interface Answer {
  statusCode: number;
  headers: IncomingHttpHeaders | Record<string, string | string[] | number | undefined>;
  body: string;
}

/** The members of an RFC 9457 problem this API answers with. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  errors?: Array<{ path: string; message: string }>;
}

/**
 * Asserts an RFC 9457 problem+json answer with this status and stable code, whole: every member
 * the contract names, the request id of its response, and no stack trace. The one copy every
 * suite uses.
 */
export function expectProblem(res: Answer, status: number, code: string): Problem {
  expect({ status: res.statusCode, code: codeOf(res.body) }, res.body).toEqual({ status, code });
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.body) as Problem;
  expect(body).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    code,
    requestId: res.headers['x-request-id'],
  });
  expect(body).not.toHaveProperty('stack');
  expect(res.body).not.toMatch(/\n\s+at /);
  return body;
}

/** 401 as the contract words it for a missing, malformed, expired or revoked bearer token. */
export function expectUnauthorized(res: Answer, code = 'unauthorized'): Problem {
  const body = expectProblem(res, 401, code);
  expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer\b/);
  return body;
}

function codeOf(body: string): unknown {
  try {
    return (JSON.parse(body) as { code?: unknown }).code;
  } catch {
    return undefined;
  }
}
