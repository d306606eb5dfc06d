import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Fanout, Signal, WireNotification } from './fanout.js';

/** What a stream needs from the rest of the module. */
export interface StreamSources {
  /** The notifications of `userId` written after `afterId`, oldest first, at most `limit`. */
  after(userId: string, afterId: string, limit: number): Promise<WireNotification[]>;
  /** Is this session still valid (not revoked or expired, the account active)? */
  sessionValid(userId: string, sessionId: string): Promise<boolean>;
}

export interface HubOptions {
  heartbeatMs: number;
  maxStreamsPerUser: number;
}

const REPLAY_PAGE = 200;
/** Ids recently sent on a stream: a replay overlapping live delivery sends none of them twice. */
const RECENT_IDS = 512;
/** A client this far behind (bytes queued in the socket) is dropped; it reconnects and replays. */
const MAX_BACKLOG_BYTES = 1 << 20;

/** The lowest UUID v7 of a millisecond: every id written from then on sorts after it. */
function idAt(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

export const formatEvent = (notification: WireNotification) =>
  `id: ${notification.id}\nevent: notification\ndata: ${JSON.stringify(notification)}\n\n`;

class Stream {
  private replaying = 0;
  private buffered: WireNotification[] = [];
  private readonly recent = new Set<string>();
  /** Where a replay resumes: the last id sent, or the moment the stream opened. */
  private lastId: string;
  /** Ends the stream when the access token it was opened with expires. */
  private expiry?: NodeJS.Timeout;
  closed = false;

  constructor(
    readonly userId: string,
    readonly sessionId: string,
    private readonly res: ServerResponse,
    private readonly sources: StreamSources,
    private readonly onEnd: (stream: Stream) => void,
    lastEventId: string | undefined,
  ) {
    // Real time, not the app clock: ids are UUID v7 of the real time they were made.
    this.lastId = lastEventId ?? idAt(Date.now());
    res.on('close', () => this.end());
  }

  /** Ends the stream in `ms` (at once when not positive): its token's remaining life. */
  endIn(ms: number) {
    if (this.closed) return;
    if (ms <= 0) {
      this.end();
      return;
    }
    this.expiry = setTimeout(() => this.end(), ms);
    this.expiry.unref();
  }

  write(chunk: string) {
    if (this.closed) return;
    if (this.res.writableLength > MAX_BACKLOG_BYTES) {
      this.end();
      return;
    }
    this.res.write(chunk);
  }

  deliver(notification: WireNotification) {
    if (this.closed) return;
    if (this.replaying > 0) {
      this.buffered.push(notification);
      return;
    }
    this.send(notification);
  }

  private send(notification: WireNotification) {
    if (this.recent.has(notification.id)) return;
    this.recent.add(notification.id);
    if (this.recent.size > RECENT_IDS) {
      const oldest = this.recent.values().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
    if (notification.id > this.lastId) this.lastId = notification.id;
    this.write(formatEvent(notification));
  }

  /** Sends what was written after the last id sent, then what arrived live meanwhile. */
  async replay() {
    this.replaying += 1;
    try {
      for (;;) {
        const rows = await this.sources.after(this.userId, this.lastId, REPLAY_PAGE);
        if (this.closed) return;
        for (const row of rows) this.send(row);
        if (rows.length < REPLAY_PAGE) break;
      }
    } finally {
      this.replaying -= 1;
      if (this.replaying === 0) {
        const buffered = this.buffered;
        this.buffered = [];
        for (const notification of buffered) this.send(notification);
      }
    }
  }

  async checkSession() {
    if (this.closed) return;
    if (!(await this.sources.sessionValid(this.userId, this.sessionId))) this.end();
  }

  end() {
    if (this.closed) return;
    this.closed = true;
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = undefined;
    this.buffered = [];
    if (!this.res.writableEnded) this.res.end();
    this.onEnd(this);
  }
}

export class StreamLimitError extends Error {}

/**
 * The notification streams open on this instance, by user. Signals from the fan-out channel are
 * routed to the streams of their user; one timer sends every stream's heartbeat. Holding a
 * stream costs a socket and a few objects: no database connection.
 */
export class StreamHub {
  private readonly byUser = new Map<string, Set<Stream>>();
  private heartbeat?: NodeJS.Timeout;
  private count = 0;

  constructor(
    private readonly fanout: Fanout,
    private readonly sources: StreamSources,
    private readonly options: HubOptions,
    private readonly logger: FastifyBaseLogger,
  ) {}

  get openStreams() {
    return this.count;
  }

  /** Refuses (StreamLimitError) before anything is written, so the caller can still answer 429. */
  reserve(userId: string) {
    if ((this.byUser.get(userId)?.size ?? 0) >= this.options.maxStreamsPerUser) {
      throw new StreamLimitError();
    }
  }

  /** Subscribes this instance to the channel once; resolves when signals will arrive. */
  ready() {
    return this.fanout.subscribe({
      onSignal: (signal) => this.route(signal),
      onResync: () => this.resync(),
    });
  }

  /**
   * Registers the stream, then replays from `lastEventId` (if given) while live signals are held
   * back, so that nothing written meanwhile is lost or sent twice.
   */
  async open(
    userId: string,
    sessionId: string,
    res: ServerResponse,
    lastEventId: string | undefined,
    /** Milliseconds until the access token expires: the stream ends then. */
    lifetimeMs?: number,
  ) {
    const stream = new Stream(
      userId,
      sessionId,
      res,
      this.sources,
      (s) => this.remove(s),
      lastEventId,
    );
    let streams = this.byUser.get(userId);
    if (!streams) {
      streams = new Set();
      this.byUser.set(userId, streams);
    }
    streams.add(stream);
    this.count += 1;
    this.startHeartbeat();
    if (lifetimeMs !== undefined) stream.endIn(lifetimeMs);
    // The replay holds live signals back from here on; the session may have ended between the
    // guard and the subscription, so it is checked once more.
    const replay = lastEventId ? stream.replay() : undefined;
    await Promise.all([stream.checkSession(), replay]);
  }

  private remove(stream: Stream) {
    const streams = this.byUser.get(stream.userId);
    if (!streams?.delete(stream)) return;
    this.count -= 1;
    if (streams.size === 0) this.byUser.delete(stream.userId);
    if (this.count === 0) this.stopHeartbeat();
  }

  private route(signal: Signal) {
    const streams = this.byUser.get(signal.u);
    if (!streams) return;
    for (const stream of [...streams]) {
      if (signal.t === 'n') stream.deliver(signal.n);
      else
        stream
          .checkSession()
          .catch((error) => this.logger.warn({ err: error }, 'could not check a stream session'));
    }
  }

  /** After the channel was down: every stream re-reads what it may have missed, and its session. */
  private resync() {
    for (const streams of this.byUser.values()) {
      for (const stream of streams) {
        stream
          .checkSession()
          .then(() => stream.replay())
          .catch((error) => this.logger.warn({ err: error }, 'could not resync a stream'));
      }
    }
  }

  private startHeartbeat() {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      for (const streams of this.byUser.values()) {
        for (const stream of streams) stream.write(': heartbeat\n\n');
      }
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat() {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Ends every stream (the server is closing: clients reconnect elsewhere with Last-Event-ID). */
  async close() {
    for (const streams of [...this.byUser.values()]) {
      for (const stream of [...streams]) stream.end();
    }
    this.stopHeartbeat();
    await this.fanout.close();
  }
}
