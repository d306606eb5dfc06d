import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, RequestLogger, requestLogger } from '../../src/lib/logger.js';
import { type BuiltApp, buildAppWith } from './support.js';

/** A logger as production makes it, at `level`, whose lines are parsed and kept. */
function capture(level: 'warn' | 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()));
      callback();
    },
  });
  const logger = createLogger({ logLevel: level }, stream);
  let children = 0;
  const child = logger.child;
  // On the parent only: pino's children inherit from it, and their own child() must stay theirs.
  logger.child = function (this: typeof logger, ...args: Parameters<typeof child>) {
    if (this === logger) children++;
    return child.apply(this, args);
  } as typeof logger.child;
  return { logger, lines, children: () => children };
}

describe('the request logger (the per-request child, made on the first line written)', () => {
  it('makes no child for lines below the level, and writes none', () => {
    const { logger, lines, children } = capture('warn');
    const log = new RequestLogger(logger, { reqId: 'r-1' });
    log.info({ req: { method: 'GET' } }, 'incoming request');
    log.debug('detail');
    log.trace('more detail');
    expect(children()).toBe(0);
    expect(lines).toEqual([]);
    expect(log.level).toBe('warn');
    expect(log.isLevelEnabled('info')).toBe(false);
  });

  it('writes an enabled line through one child with the request’s bindings', () => {
    const { logger, lines, children } = capture('warn');
    const log = new RequestLogger(logger, { reqId: 'r-2' });
    log.warn({ err: new Error('slow') }, 'first');
    log.error('second');
    log.info('below the level');
    expect(children()).toBe(1);
    expect(lines.map((line) => [line.reqId, line.msg, line.level])).toEqual([
      ['r-2', 'first', 40],
      ['r-2', 'second', 50],
    ]);
    // The parent's settings still apply: base fields and the redaction of secrets.
    log.warn({ password: 'hunter2' }, 'redacted');
    expect(lines.at(-1)).toMatchObject({ service: 'homefront', password: '[redacted]' });
  });

  it('a level set on it applies to it alone, as on a pino child', () => {
    const { logger, lines } = capture('warn');
    const log = new RequestLogger(logger, { reqId: 'r-3' });
    log.level = 'debug';
    log.debug('now written');
    logger.debug('not by the parent');
    expect(lines.map((line) => line.msg)).toEqual(['now written']);
  });

  it('children of it carry both bindings', () => {
    const { logger, lines } = capture('info');
    new RequestLogger(logger, { reqId: 'r-4' }).child({ job: 'mail' }).info('sent');
    expect(lines[0]).toMatchObject({ reqId: 'r-4', job: 'mail', msg: 'sent' });
  });

  it('a route with a log level of its own gets pino’s child at once', () => {
    const { logger, children } = capture('warn');
    const log = requestLogger(logger, { reqId: 'r-5' }, { level: 'debug' });
    expect(children()).toBe(1);
    expect(log.level).toBe('debug');
  });
});

describe('the app’s request logger', () => {
  let t: BuiltApp;
  beforeAll(async () => {
    t = await buildAppWith((app) => {
      app.get('/test/log-a-line', async (request) => {
        request.log.warn({ step: 1 }, 'a line from a handler');
        request.log.child({ part: 'inner' }).warn('a line from a child');
        return { ok: true };
      });
    });
  });
  afterAll(() => t?.close());

  it('writes a handler’s lines with the request id of the answer', async () => {
    const res = await t.app.inject({
      url: '/test/log-a-line',
      headers: { 'x-request-id': 'log-me-1' },
    });
    expect(res.statusCode).toBe(200);
    const mine = t.logs.map((line) => JSON.parse(line)).filter((line) => line.reqId === 'log-me-1');
    expect(mine).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ msg: 'a line from a handler', step: 1, level: 40 }),
        expect.objectContaining({ msg: 'a line from a child', part: 'inner', level: 40 }),
      ]),
    );
  });
});
