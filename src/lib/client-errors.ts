import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { securityHeadersFor } from '../plugins/security-headers.js';
import { ERROR_TITLES, type ErrorCode } from './errors.js';
import { problemType } from './schemas.js';

function classify(parserCode: string | undefined): [number, ErrorCode, string] {
  if (parserCode === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return [408, 'request_timeout', 'The request did not arrive in time.'];
  }
  if (parserCode === 'HPE_HEADER_OVERFLOW') {
    return [431, 'header_too_large', 'The request line and headers are too large.'];
  }
  return [400, 'bad_request', 'The request is not valid HTTP.'];
}

/**
 * What Node's HTTP parser refuses (an over-long URL or header, an unknown method, a malformed
 * request line, a request that took too long) never reaches Fastify: the server answers on the
 * socket itself. Same shape as every other error: problem+json, the security headers, a request
 * id. The connection is closed after it, as Node does, since the stream can no longer be parsed.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, detail] = classify(error.code);
  const requestId = randomUUID();
  const body = JSON.stringify({
    type: problemType(code),
    title: ERROR_TITLES[code],
    status,
    detail,
    code,
    requestId,
  });
  this.log.info({ code, status, parserError: error.code, requestId }, 'request rejected');
  if (socket.writable) {
    const headers: Record<string, string | number> = {
      'content-type': 'application/problem+json',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
      'x-request-id': requestId,
      ...securityHeadersFor('/'),
    };
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines.join('')}\r\n${body}`);
  }
  socket.destroy(error);
}
