import { once } from 'node:events';
import { connect } from 'node:net';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { within } from './net.js';

/**
 * Requests whose bytes a test writes itself: a body exactly as given (a form, broken JSON, text)
 * through inject, or a whole request on a socket of its own when the HTTP parser is under test.
 */

export interface RawResponse {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: string;
}

/** What these helpers need of an app: its inject. */
interface Injectable {
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
}

export interface RawBody {
  method?: InjectOptions['method'];
  url: string;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

/** The body goes as written, under the content type given (default method POST). */
export function sendRaw(app: Injectable, request: RawBody) {
  return app.inject({
    method: request.method ?? 'POST',
    url: request.url,
    headers: { ...request.headers, 'content-type': request.contentType },
    payload: request.body,
  });
}

/** A urlencoded form, as an OAuth2 client or a browser sends it. */
export const sendForm = (
  app: Injectable,
  url: string,
  fields: Record<string, string> | string,
  headers?: Record<string, string>,
) =>
  sendRaw(app, {
    url,
    contentType: 'application/x-www-form-urlencoded',
    body: typeof fields === 'string' ? fields : new URLSearchParams(fields).toString(),
    headers,
  });

/** `request` on a socket of its own, read until the server closes the connection. */
export async function rawHttp(port: number, request: string): Promise<RawResponse> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  await within(once(socket, 'connect'), 5_000, 'connecting');
  socket.write(request);
  await within(once(socket, 'close'), 10_000, 'the server closing the connection');
  const response = parseHttpResponse(Buffer.concat(chunks), { untilClose: true });
  if (!response) throw new Error('the server closed the connection without an answer');
  return response;
}

/**
 * The first response in `buffer`, or undefined while it is incomplete: framed by Content-Length,
 * or (`untilClose`, the connection having ended) everything after the head.
 */
export function parseHttpResponse(
  buffer: Buffer,
  options: { untilClose?: boolean } = {},
): RawResponse | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const start = end + 4;
  const length = options.untilClose
    ? buffer.length - start
    : Number(headers['content-length'] ?? 0);
  if (buffer.length < start + length) return undefined;
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: buffer.subarray(start, start + length).toString('utf8'),
  };
}
