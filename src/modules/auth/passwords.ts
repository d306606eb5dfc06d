import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compare, hash } from '@node-rs/bcrypt';
import { weakPassword } from '../../lib/errors.js';

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

export class PasswordHasher {
  private readonly dummyHash: Promise<string>;

  constructor(
    private readonly pepper: string,
    readonly cost: number,
  ) {
    // Compared against when the email is unknown, so both login failures cost one bcrypt.
    this.dummyHash = hash(prehash('homefront-dummy-password', pepper), cost);
  }

  hash(password: string): Promise<string> {
    return hash(prehash(password, this.pepper), this.cost);
  }

  verify(password: string, storedHash: string): Promise<boolean> {
    return compare(prehash(password, this.pepper), storedHash);
  }

  /** Spends the same time as a real verification, then fails. */
  async verifyAgainstDummy(password: string): Promise<false> {
    await compare(prehash(password, this.pepper), await this.dummyHash);
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
    readFileSync(new URL('./data/common-passwords.txt', import.meta.url), 'utf8').split('\n'),
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
