import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * One owner per table: only files under the owner's path insert, update or delete its rows
 * (Drizzle's db.insert(table) and friends). Another module that needs a change calls the
 * owner's functions. user_grants has no writer: triggers keep it (migration 0005).
 */
const OWNERS: Record<string, string> = {
  users: 'modules/users/',
  userRoles: 'modules/rbac/',
  userGrants: '(triggers only)',
  sessions: 'modules/auth/',
  refreshTokens: 'modules/auth/',
  oneTimeTokens: 'modules/auth/',
  mfaTotp: 'modules/mfa/',
  mfaRecoveryCodes: 'modules/mfa/',
  mfaChallenges: 'modules/mfa/',
  emailChanges: 'modules/users/',
  properties: 'modules/properties/',
  services: 'modules/services/',
  auditEvents: 'kernel/audit.ts',
  jobs: 'jobs/',
  mailOutbox: 'mail/',
  jobRequests: 'modules/marketplace/',
  quotes: 'modules/marketplace/',
  bookings: 'modules/marketplace/',
  idempotencyKeys: 'kernel/idempotency.ts',
  notifications: 'modules/notifications/',
  notificationSettings: 'modules/notifications/',
  messageThreads: 'modules/messages/',
  threadMembers: 'modules/messages/',
  messages: 'modules/messages/',
  reviews: 'modules/reviews/',
  providerRatings: 'modules/reviews/',
  passkeys: 'modules/passkeys/',
  passkeyChallenges: 'modules/passkeys/',
  signInDevices: 'modules/auth/',
};

const SRC = path.resolve('src');

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [path.relative(SRC, full)] : [];
  });
}

const writes = sourceFiles().flatMap((file) =>
  [...readFileSync(path.join(SRC, file), 'utf8').matchAll(/\.(insert|update|delete)\((\w+)\)/g)]
    .map((match) => ({ file, table: match[2] ?? '' }))
    .filter(({ table }) => table in OWNERS),
);

describe('table ownership', () => {
  it('finds the writes', () => {
    expect(writes.some(({ table }) => table === 'users')).toBe(true);
  });

  it('has each table written only by its owner', () => {
    const trespass = writes
      .filter(({ file, table }) => !file.startsWith(OWNERS[table] ?? '\0'))
      .map(({ file, table }) => `${file} writes ${table} (owner: ${OWNERS[table]})`);
    expect(trespass).toEqual([]);
  });
});
