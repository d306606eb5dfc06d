import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { compare, hash } from '@node-rs/bcrypt';
import pLimit, { type LimitFunction } from 'p-limit';
import { codeFile } from '../../lib/code-files.js';
import { serviceUnavailable, weakPassword } from '../../lib/errors.js';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/**
 * bcrypt reads only the first 72 bytes of its input. We never give it the password itself but
 * HMAC-SHA-256(pepper, password) in base64 (44 bytes), so every character counts, whatever the
 * length, and a stolen database is useless without the pepper.
 */
function prehash(password: string, pepper: string): string {
  return createHmac('sha256', pepper).update(password, 'utf8').digest('base64');
}

/** Hashes waiting beyond this are refused (503) rather than queued for seconds. */
const MAX_WAITING = 64;

/**
 * bcrypt runs on libuv's thread pool, off the event loop, but it still takes a core. At most
 * cores − 1 run at once, so a login flood cannot starve the event loop (and every other request)
 * of CPU; the rest wait their turn.
 */
export class PasswordHasher {
  private readonly dummyHash: Promise<string>;
  private readonly slots: LimitFunction;

  constructor(
    private readonly pepper: string,
    readonly cost: number,
    concurrency = Math.max(1, availableParallelism() - 1),
  ) {
    this.slots = pLimit(concurrency);
    // Compared against when the email is unknown, so both login failures cost one bcrypt.
    this.dummyHash = hash(prehash('homefront-dummy-password', pepper), cost);
  }

  private throttled<T>(work: () => Promise<T>): Promise<T> {
    if (this.slots.pendingCount >= MAX_WAITING) {
      return Promise.reject(serviceUnavailable('Too many sign-ins at once; try again shortly.'));
    }
    return this.slots(work);
  }

  hash(password: string): Promise<string> {
    return this.throttled(() => hash(prehash(password, this.pepper), this.cost));
  }

  verify(password: string, storedHash: string): Promise<boolean> {
    return this.throttled(() => compare(prehash(password, this.pepper), storedHash));
  }

  /** Spends the same time as a real verification, then fails. */
  async verifyAgainstDummy(password: string): Promise<false> {
    const dummy = await this.dummyHash;
    await this.throttled(() => compare(prehash(password, this.pepper), dummy));
    return false;
  }

  /** True when the stored hash was made at a lower cost than the current one. */
  needsRehash(storedHash: string): boolean {
    const cost = Number(/^\$2[aby]?\$(\d{2})\$/.exec(storedHash)?.[1]);
    return !Number.isFinite(cost) || cost < this.cost;
  }
}

let commonPasswords: Set<string> | undefined;

/** The 100,000 most common passwords of SecLists (those of 8+ characters), loaded once. */
function isCommon(password: string): boolean {
  commonPasswords ??= new Set(
    readFileSync(codeFile('modules/auth/wordlists/common-passwords.txt'), 'utf8').split('\n'),
  );
  return commonPasswords.has(password) || commonPasswords.has(password.toLowerCase());
}

/**
 * NIST 800-63B style: length and a blocklist, no composition rules. Length limits are also in
 * the request schemas; they are checked here again so no caller can skip them before hashing.
 */
export function assertAcceptablePassword(password: string, email?: string): void {
  // Characters are code points, as the request schema's maxLength counts them: `.length` counts
  // UTF-16 units, which would let four emoji pass for eight characters.
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    throw weakPassword(`The password must be at least ${PASSWORD_MIN_LENGTH} characters.`);
  }
  if (length > PASSWORD_MAX_LENGTH) {
    throw weakPassword(`The password must be at most ${PASSWORD_MAX_LENGTH} characters.`);
  }
  if (isCommon(password)) {
    throw weakPassword('This password is among the most commonly used; choose another.');
  }
  if (email && password.toLowerCase() === email.toLowerCase()) {
    throw weakPassword('The password must not be the email address.');
  }
}
