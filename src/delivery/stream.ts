// Wake-ups for SSE clients: one LISTEN connection per process while anyone is subscribed, shared by all streams.
// A stream reads the outbox itself (`seq > its cursor`) when the hub's shared read of the newest position says
// there is something past its cursor, so a wake-up carries no data and a missed one only delays a client until
// its next poll.

import { NOTIFY_STREAM } from '../db/channels.ts';
import { PgListener } from '../db/listen.ts';
import { latestSeq } from '../db/outbox.ts';
import type { Pool } from '../db/pool.ts';

export interface StreamSubscription {
  /** Resolves on the next wake-up, or after `ms`. */
  wait(ms: number): Promise<void>;
  close(): void;
}

/** How long one read of the newest stream position serves every stream of the process. */
const LATEST_TTL_MS = 250;

class StreamHub {
  private listener: PgListener | undefined;
  private readonly waiters = new Set<() => void>();
  private subscribers = 0;
  private latest: { seq: number; at: number } | undefined;
  private reading: Promise<number> | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly pool: Pool,
  ) {}

  /**
   * The newest stream position, read once for all streams (at most every LATEST_TTL_MS, and again after each
   * wake-up): an idle stream then costs no query of its own, so a wall of dashboards does not drain the pool
   * ingest needs. A stream reads events only when this is past its cursor.
   */
  latestSeq(): Promise<number> {
    if (this.latest && Date.now() - this.latest.at < LATEST_TTL_MS) return Promise.resolve(this.latest.seq);
    this.reading ??= latestSeq(this.pool)
      .then((seq) => {
        this.latest = { seq, at: Date.now() };
        return seq;
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  subscribe(): StreamSubscription {
    this.subscribers++;
    if (!this.listener) {
      this.listener = new PgListener(this.connectionString, [NOTIFY_STREAM], () => this.wakeAll());
      this.listener.start();
    }
    let closed = false;
    let pending: (() => void) | undefined;
    return {
      wait: (ms) =>
        new Promise<void>((resolve) => {
          if (closed) return resolve();
          const done = () => {
            clearTimeout(timer);
            this.waiters.delete(done);
            pending = undefined;
            resolve();
          };
          const timer = setTimeout(done, ms);
          pending = done;
          this.waiters.add(done);
        }),
      close: () => {
        if (closed) return;
        closed = true;
        pending?.();
        // The last stream gone: no connection held for nobody.
        if (--this.subscribers === 0) {
          const l = this.listener;
          this.listener = undefined;
          void l?.close();
        }
      },
    };
  }

  private wakeAll() {
    // Something new was numbered: the cached position is stale.
    this.latest = undefined;
    for (const w of [...this.waiters]) w();
  }
}

const hubs = new WeakMap<Pool, StreamHub>();

export function streamHub(pool: Pool): StreamHub {
  let hub = hubs.get(pool);
  if (!hub) {
    const url = pool.options.connectionString;
    if (!url) throw new Error('the SSE stream needs a pool created from a connection string');
    hub = new StreamHub(url, pool);
    hubs.set(pool, hub);
  }
  return hub;
}
