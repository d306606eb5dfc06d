import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Static security headers, set once per request in onRequest so that error responses carry them
 * too. Written by hand rather than with helmet: helmet's per-request work halved the throughput of
 * a bare route here, and an API that serves JSON needs only these few.
 */
const API_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};

/** The interactive docs page needs its own scripts, styles and inline images. */
const DOCS_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

const HSTS = 'max-age=31536000; includeSubDomains';

/** The headers for a URL; also written by the answers given before any hook runs (src/app.ts). */
export function securityHeadersFor(url: string): Record<string, string> {
  return url.startsWith('/docs') ? DOCS_HEADERS : API_HEADERS;
}

async function securityHeaders(app: FastifyInstance) {
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(securityHeadersFor(request.url));
    // request.protocol honours X-Forwarded-Proto only when TRUST_PROXY trusts the peer.
    if (request.protocol === 'https') reply.header('strict-transport-security', HSTS);
    done();
  });
}

export default fp(securityHeaders, { name: 'security-headers' });
