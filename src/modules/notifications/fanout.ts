import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Database, Db, Listener } from '../../db/client.js';

/**
 * How a change written on one instance reaches the streams held by every instance.
 *
 * - `n`: a notification was written for user `u` (the whole row travels, so no stream queries
 *   the database to forward it);
 * - `s`: the sessions or the account of user `u` changed (logout, password change, disable…):
 *   each stream of that user checks its own session and ends if it is no longer valid.
 *
 * A signal is published inside the transaction of the change and delivered only if it commits.
 */
export type Signal = { t: 'n'; u: string; n: WireNotification } | { t: 's'; u: string };

export interface WireNotification {
  id: string;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  readAt: string | null;
  createdAt: string;
}

export interface FanoutHandlers {
  onSignal(signal: Signal): void;
  /** The channel was down for a while: signals may have been lost, re-read what matters. */
  onResync(): void;
}

export interface Fanout {
  readonly kind: 'postgres' | 'pglite' | 'redis';
  publish(tx: Db, signal: Signal): Promise<void>;
  /** Starts receiving (once; later calls wait for the first). */
  subscribe(handlers: FanoutHandlers): Promise<void>;
  close(): Promise<void>;
}

export const CHANNEL = 'homefront_notifications';

function parse(payload: string, logger: FastifyBaseLogger): Signal | undefined {
  try {
    const signal = JSON.parse(payload) as Signal;
    if ((signal.t === 'n' || signal.t === 's') && typeof signal.u === 'string') return signal;
  } catch {}
  logger.warn('ignored a malformed notification signal');
  return undefined;
}

/**
 * PostgreSQL's LISTEN/NOTIFY: `pg_notify` in the transaction (sent at commit, by PostgreSQL
 * itself), one LISTEN connection per instance. On PGlite the same statements deliver in process.
 * A payload is at most 8000 bytes: a notification's text is bounded well under that.
 */
export class DatabaseFanout implements Fanout {
  readonly kind: 'postgres' | 'pglite';
  private listening?: Promise<Listener>;

  constructor(
    private readonly database: Database,
    private readonly logger: FastifyBaseLogger,
  ) {
    this.kind = database.driver;
  }

  async publish(tx: Db, signal: Signal) {
    await tx.execute(sql`select pg_notify(${CHANNEL}, ${JSON.stringify(signal)})`);
  }

  async subscribe(handlers: FanoutHandlers) {
    this.listening ??= this.database.listen(CHANNEL, {
      onMessage: (payload) => {
        const signal = parse(payload, this.logger);
        if (signal) handlers.onSignal(signal);
      },
      onReconnect: () => handlers.onResync(),
    });
    try {
      await this.listening;
    } catch (error) {
      this.listening = undefined;
      throw error;
    }
  }

  async close() {
    const listening = this.listening;
    this.listening = undefined;
    await (await listening?.catch(() => undefined))?.close();
  }
}

interface Pending {
  xid: string;
  signals: Signal[];
}

/** How long a transaction may stay open after its first signal before its signals are dropped. */
const COMMIT_WAIT_MS = 60_000;

/**
 * Redis pub/sub (REDIS_URL set). Redis knows nothing of the transaction, so the signals of one
 * are held here and published once PostgreSQL reports its id committed (`txid_status`, asked
 * outside the transaction with a short backoff); a rolled-back transaction publishes nothing.
 */
export class RedisFanout implements Fanout {
  readonly kind = 'redis';
  private readonly pending = new WeakMap<object, Pending>();
  private publisher?: Redis;
  private subscriber?: Promise<Redis>;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly db: Db,
    private readonly logger: FastifyBaseLogger,
  ) {}

  private async connection(): Promise<Redis> {
    const { Redis } = await import('ioredis');
    const redis = new Redis(this.url, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
    redis.on('error', (error) => this.logger.warn({ err: error.message }, 'redis unavailable'));
    return redis;
  }

  async publish(tx: Db, signal: Signal) {
    const known = this.pending.get(tx);
    if (known) {
      known.signals.push(signal);
      return;
    }
    const result = (await tx.execute(sql`select txid_current()::text as xid`)) as unknown as {
      rows: Array<{ xid: string }>;
    };
    const xid = result.rows[0]?.xid;
    if (!xid) throw new Error('no transaction id');
    const entry: Pending = { xid, signals: [signal] };
    this.pending.set(tx, entry);
    this.afterCommit(entry).catch((error) =>
      this.logger.warn({ err: error }, 'could not publish notification signals'),
    );
  }

  private async afterCommit(entry: Pending) {
    const started = Date.now();
    let delay = 1;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      const result = (await this.db.execute(
        sql`select txid_status(${entry.xid}::bigint) as status`,
      )) as unknown as { rows: Array<{ status: string | null }> };
      const status = result.rows[0]?.status;
      if (status === 'committed') break;
      if (status === 'aborted' || status === null) return;
      if (Date.now() - started > COMMIT_WAIT_MS) {
        this.logger.warn({ xid: entry.xid }, 'transaction still open: its signals are dropped');
        return;
      }
      delay = Math.min(delay * 2, 50);
    }
    if (this.closed) return;
    this.publisher ??= await this.connection();
    for (const signal of entry.signals) {
      await this.publisher.publish(this.channel, JSON.stringify(signal));
    }
  }

  async subscribe(handlers: FanoutHandlers) {
    this.subscriber ??= (async () => {
      const redis = await this.connection();
      let ready = false;
      redis.on('ready', () => {
        if (ready) handlers.onResync();
        ready = true;
      });
      redis.on('message', (channel: string, payload: string) => {
        if (channel !== this.channel) return;
        const signal = parse(payload, this.logger);
        if (signal) handlers.onSignal(signal);
      });
      await redis.subscribe(this.channel);
      ready = true;
      return redis;
    })();
    await this.subscriber;
  }

  async close() {
    this.closed = true;
    const subscriber = await this.subscriber?.catch(() => undefined);
    this.subscriber = undefined;
    subscriber?.disconnect();
    this.publisher?.disconnect();
    this.publisher = undefined;
  }
}
