import { describe, expect, it } from 'vitest';
import { whereToGo } from '../../src/lib/where-to-go.js';

describe("the ready line's directions", () => {
  const base = { host: '127.0.0.1', smtpUrl: undefined, dataDir: '/srv/data' };

  it('gives the docs URL on the port actually bound, and the outbox folder', () => {
    expect(whereToGo(base, 41234)).toEqual({
      docs: 'http://127.0.0.1:41234/docs',
      mail: 'outbox folder /srv/data/outbox (npm run mail:last shows the newest)',
    });
  });

  it('names the SMTP host and port, never its credentials', () => {
    const { mail } = whereToGo({ ...base, smtpUrl: 'smtp://user:s3cret@mail.example.com:2525' }, 1);
    expect(mail).toBe('SMTP mail.example.com:2525');
    expect(whereToGo({ ...base, smtpUrl: 'smtps://u:p@mx.example.com' }, 1).mail).toBe(
      'SMTP mx.example.com:465',
    );
  });

  it('turns a wildcard address into one a browser can open', () => {
    expect(whereToGo({ ...base, host: '0.0.0.0' }, 3000).docs).toBe('http://127.0.0.1:3000/docs');
    expect(whereToGo({ ...base, host: '::' }, 3000).docs).toBe('http://[::1]:3000/docs');
    expect(whereToGo({ ...base, host: 'api.internal' }, 3000).docs).toBe(
      'http://api.internal:3000/docs',
    );
  });
});
