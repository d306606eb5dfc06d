import { hash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../lib/errors.js';
import { VERSION } from '../lib/version.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The GET answers with a strong `ETag` and honours `If-None-Match` (304), through
     * `conditionalGet` in its handler; the OpenAPI document gains the header and the 304.
     */
    etag?: boolean;
    /**
     * The write honours `If-Match` (412 `precondition_failed` when stale), through
     * `expectedVersions` in its handler and a compare-and-set on the row's version.
     */
    ifMatch?: boolean;
  }
}

/**
 * Conditional requests (RFC 9110 §13): strong entity tags made from a row's version, never from
 * the serialised body, so a 304 costs the query and nothing more.
 *
 * A tag is `"<version>.<revision><extra>"`. The revision is taken from the package version: a
 * release can change what a representation holds (a new field) while the row stays as it was, and
 * a tag must then change too. `extra` is for what a representation holds beyond its own row (the
 * roles of /users/me). A page of the catalog has no one version: its tag digests the versions of
 * its rows (`digestTag`).
 */
const REVISION = digest(`homefront ${VERSION}`).slice(0, 6);

function digest(text: string): string {
  return hash('sha256', text, 'base64url');
}

/** The strong tag of a row at `version`; `extra`, when given, is a short digest (no `"`). */
export function versionTag(version: number, extra = ''): string {
  return `"${version}.${REVISION}${extra}"`;
}

/** A strong tag for a representation made of several rows: a digest of what decides its bytes. */
export function digestTag(parts: string): string {
  return `"${REVISION}${digest(parts).slice(0, 22)}"`;
}

/** A short digest of values a representation holds beyond its row, for `versionTag`'s `extra`. */
export function extraOf(parts: string): string {
  return `.${digest(parts).slice(0, 10)}`;
}

/**
 * The entity-tags of an If-Match or If-None-Match value (`*` / #entity-tag, RFC 9110 §8.8.3):
 * calls `each(opaque, weak)` for each well-formed one until it returns true. An element that is
 * not an entity-tag (unquoted, a control character, a stray quote) matches nothing and is skipped
 * up to the next comma; so a malformed field is never a match, whatever its length. Linear in the
 * field, which Node already bounds (maxHeaderSize).
 */
function someTag(value: string, each: (opaque: string, weak: boolean) => boolean): boolean {
  const length = value.length;
  let at = 0;
  while (at < length) {
    let code = value.charCodeAt(at);
    // OWS and empty list elements.
    if (code === 0x20 || code === 0x09 || code === 0x2c) {
      at++;
      continue;
    }
    let weak = false;
    if (code === 0x57 /* W */ && value.charCodeAt(at + 1) === 0x2f /* / */) {
      weak = true;
      at += 2;
      code = value.charCodeAt(at);
    }
    let end = -1;
    if (code === 0x22 /* " */) {
      let i = at + 1;
      for (; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c === 0x22) break;
        // etagc = %x21 / %x23-7E / obs-text
        if (c < 0x21 || c === 0x7f || c > 0xff) {
          i = length;
          break;
        }
      }
      if (i < length) {
        // After the closing quote: OWS, then a comma or the end.
        let j = i + 1;
        while (value.charCodeAt(j) === 0x20 || value.charCodeAt(j) === 0x09) j++;
        if (j >= length || value.charCodeAt(j) === 0x2c) {
          if (each(value.slice(at + 1, i), weak)) return true;
          end = j;
        }
      }
    }
    if (end < 0) {
      // Not an entity-tag: skip the element.
      const comma = value.indexOf(',', at);
      end = comma < 0 ? length : comma;
    }
    at = end + 1;
  }
  return false;
}

const headerValue = (request: FastifyRequest, name: 'if-match' | 'if-none-match') => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

const isStar = (value: string) => value.trim() === '*';

function appendVary(reply: FastifyReply, name: string) {
  const vary = reply.getHeader('vary');
  if (vary === undefined) reply.header('vary', name);
  else if (!String(vary).toLowerCase().includes(name.toLowerCase())) {
    reply.header('vary', `${vary}, ${name}`);
  }
}

/**
 * Sets the representation's `ETag` (and `Vary: Authorization`: every tagged resource is the
 * caller's). Cache-Control stays the security headers' `no-store`: these answers hold personal
 * data (SECURITY.md), so the tag serves clients that keep their own copy, and If-Match.
 */
export function setTag(reply: FastifyReply, tag: string): void {
  reply.header('etag', tag);
  appendVary(reply, 'Authorization');
}

/**
 * For a GET declared with `config: { etag: true }`: sets the ETag and says whether the request's
 * If-None-Match names the current representation (weak comparison, RFC 9110 §13.1.2), in which case
 * the handler answers 304 with `notModified`, before anything is serialised:
 *
 *   if (conditionalGet(request, reply, tag)) return notModified(reply);
 */
export function conditionalGet(request: FastifyRequest, reply: FastifyReply, tag: string): boolean {
  if (request.routeOptions.config.etag !== true) {
    throw new Error(`${request.routeOptions.url}: conditionalGet needs config: { etag: true }`);
  }
  setTag(reply, tag);
  const value = headerValue(request, 'if-none-match');
  if (value === undefined) return false;
  if (isStar(value)) return true;
  const opaque = tag.slice(1, -1);
  return someTag(value, (candidate) => candidate === opaque);
}

/**
 * 304 with no body: `send()` without a payload skips serialisation; the headers already set (ETag,
 * Vary, the security and rate-limit headers) go out with it, as RFC 9110 §15.4.5 asks.
 */
export function notModified(reply: FastifyReply): FastifyReply {
  return reply.code(304).send();
}

/**
 * The versions a write declared with `config: { ifMatch: true }` may apply to, from If-Match:
 * - `undefined`: no If-Match, or `*` (any current representation; a missing row is the route's
 *   404 anyway): the write is unconditional;
 * - a list (maybe empty): the versions of the strong tags that name this resource with the current
 *   revision and `extra`. The write is a compare-and-set on them (`version = any(...)`); none left
 *   (weak tags, tags of another release, malformed values) means it cannot succeed: 412.
 */
export function expectedVersions(
  request: FastifyRequest,
  extra = '',
): readonly number[] | undefined {
  if (request.routeOptions.config.ifMatch !== true) {
    throw new Error(
      `${request.routeOptions.url}: expectedVersions needs config: { ifMatch: true }`,
    );
  }
  const value = headerValue(request, 'if-match');
  if (value === undefined || isStar(value)) return undefined;
  const suffix = `.${REVISION}${extra}`;
  const versions: number[] = [];
  someTag(value, (opaque, weak) => {
    if (weak || !opaque.endsWith(suffix)) return false;
    const digits = opaque.slice(0, -suffix.length);
    if (/^[1-9][0-9]{0,9}$/.test(digits) && Number(digits) <= 2_147_483_647) {
      versions.push(Number(digits));
    }
    // A client names one or two tags; more is not a reason to keep collecting.
    return versions.length >= 16;
  });
  return versions;
}

/** 412: the resource changed since the client read it (or If-Match named no current tag). */
export const preconditionFailed = () =>
  new AppError(
    412,
    'precondition_failed',
    'The resource has changed since you read it (If-Match names no current ETag). Read it again, then retry.',
  );

/** Whether a row's version passes the request's expectation. */
export const versionAllowed = (expected: readonly number[] | undefined, version: number) =>
  expected === undefined || expected.includes(version);
