// Wake-ups for SSE clients: one LISTEN connection per process while anyone is subscribed, shared by all streams.
// Each stream reads the outbox itself (`seq > its cursor`), so a wake-up carries no data and a missed one only
// delays a client until its next poll.

import { NOTIFY_STREAM } from '../db/channels.ts';
import type { Pool } from '../db/pool.ts';
import { PgListener } from './listen.ts';

export interface StreamSubscription {
  /** Resolves on the next wake-up, or after `ms`. */
  wait(ms: number): Promise<void>;
  close(): void;
}

class StreamHub {
  private listener: PgListener | undefined;
  private readonly waiters = new Set<() => void>();
  private subscribers = 0;

  constructor(private readonly connectionString: string) {}

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
    for (const w of [...this.waiters]) w();
  }
}

const hubs = new WeakMap<Pool, StreamHub>();

export function streamHub(pool: Pool): StreamHub {
  let hub = hubs.get(pool);
  if (!hub) {
    const url = pool.options.connectionString;
    if (!url) throw new Error('the SSE stream needs a pool created from a connection string');
    hub = new StreamHub(url);
    hubs.set(pool, hub);
  }
  return hub;
}
