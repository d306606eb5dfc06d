import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { prettyLogs } from '../../src/lib/pretty-logs.js';

const terminal = { isTTY: true };
const pipe = { isTTY: false };

describe('log format', () => {
  it('is human-readable in development at a terminal', () => {
    const captured = new PassThrough();
    let text = '';
    captured.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const destination = prettyLogs('development', terminal, captured);
    expect(destination).toBeDefined();
    createLogger({ logLevel: 'info' }, destination).info(
      { docs: 'http://127.0.0.1:3000/docs' },
      'ready',
    );
    expect(text).toMatch(/INFO.*: ready/);
    expect(text).toContain('docs: "http://127.0.0.1:3000/docs"');
    expect(text).not.toContain('{"level"');
  });

  it('stays JSON when stdout is not a terminal, or outside development', () => {
    expect(prettyLogs('development', pipe)).toBeUndefined();
    expect(prettyLogs('production', terminal)).toBeUndefined();
    expect(prettyLogs('test', terminal)).toBeUndefined();
  });
});
