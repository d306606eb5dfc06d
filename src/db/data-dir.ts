import {
  accessSync,
  constants,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

/**
 * DATA_DIR holds the embedded database, which only one process may open: two PGlite instances
 * on one folder diverge silently (or abort). The owner keeps a lock file with its pid there;
 * a lock whose pid is gone (a killed server) is stale and taken over.
 */

export const LOCK_FILE = 'homefront.lock';

/** DATA_DIR cannot be used at all; printed as `Invalid configuration: DATA_DIR: <message>`. */
export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

/** Another live process owns DATA_DIR. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `DATA_DIR ${dir} is in use by process ${pid} (another Homefront server or command): stop it first, or use another DATA_DIR`,
    );
    this.name = 'DataDirLockedError';
  }
}

const PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'is on a read-only file system',
  ENOTDIR: 'is a file, not a folder',
  EEXIST: 'is a file, not a folder',
  ENOSPC: 'no space left on the device',
};

/**
 * A file-system error about DATA_DIR (or something in it) as one line; undefined if it is not
 * one. Without `dir`, any file-system error with a path counts (loadConfig touches DATA_DIR only).
 */
export function dataDirProblem(error: unknown, dir?: string): DataDirError | undefined {
  if (error instanceof DataDirError) return error;
  const { code, path: where } = (error ?? {}) as { code?: string; path?: string };
  if (!code || !where || !PROBLEMS[code]) return undefined;
  const resolved = path.resolve(where);
  if (dir === undefined) return new DataDirError(`${resolved}: ${PROBLEMS[code]}`);
  if (resolved !== dir && !resolved.startsWith(dir + path.sep)) return undefined;
  const subject = resolved === dir ? dir : `${dir} (${path.relative(dir, resolved)})`;
  return new DataDirError(`${subject}: ${PROBLEMS[code]}`);
}

/**
 * Makes sure DATA_DIR exists and that this process can list, read and write it; a write probe
 * catches what access() does not (a read-only mount seen by root, ACLs).
 */
export function checkDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new DataDirError(`${dir}: is a file, not a folder`);
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    const probe = path.join(dir, `.write-probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    throw dataDirProblem(error, dir) ?? error;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** The pid in a lock file, or undefined for a lock file being written or garbled. */
function ownerOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes DATA_DIR for this process or throws DataDirLockedError. The lock goes with release() or
 * the process's exit; a SIGKILLed owner leaves a stale lock that the next start takes over.
 */
export function lockDataDir(dir: string): DataDirLock {
  checkDataDir(dir);
  const file = path.join(dir, LOCK_FILE);
  // Written whole under a private name, then linked into place: link() fails if the lock exists,
  // so of two processes starting together exactly one wins, and no one reads a half-written pid.
  const draft = path.join(dir, `.${LOCK_FILE}.${process.pid}`);
  writeFileSync(draft, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (created(draft, file)) return ownedLock(file);
      } catch (error) {
        throw dataDirProblem(error, dir) ?? error;
      }
      const pid = ownerOf(file);
      // Our own pid in the file: a container restarted as pid 1 after a crash, say.
      if (pid !== undefined && pid !== process.pid && alive(pid)) {
        throw new DataDirLockedError(dir, pid);
      }
      rmSync(file, { force: true }); // stale: its owner is gone
    }
    throw new DataDirLockedError(dir, ownerOf(file) ?? 0);
  } finally {
    rmSync(draft, { force: true });
  }
}

const codeOf = (error: unknown) => (error as { code?: string }).code;

/** Creates the lock file from the draft; false if it exists already. */
function created(draft: string, file: string): boolean {
  try {
    linkSync(draft, file);
    return true;
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'ENOSYS'].includes(codeOf(error) ?? '')) throw error;
  }
  // A file system without hard links (some FUSE and network mounts): exclusive create instead.
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return false;
    throw error;
  }
}

function ownedLock(file: string): DataDirLock {
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    try {
      if (ownerOf(file) === process.pid) unlinkSync(file);
    } catch {
      // Best effort: a lock left behind is stale once this process is gone.
    }
  };
  process.on('exit', release);
  return { file, release };
}
