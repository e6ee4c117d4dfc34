// GET /v1/alerts/stream (compliance): Server-Sent Events of every alert change, read from the outbox. `id:` is the
// event's stream position; a client that reconnects with `Last-Event-ID` (or `?lastEventId=`) gets everything
// after it from the table, so nothing is missed and nothing repeated. New events arrive by LISTEN/NOTIFY from any
// process, with a poll as the fallback; a comment line every 15 s keeps proxies from closing an idle stream.
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { isTransientDbError, type Pool } from '../../db/pool.ts';
import { eventsAfter, latestSeq } from '../../delivery/outbox.ts';
import { eventPayload } from '../../delivery/payload.ts';
import { streamHub } from '../../delivery/stream.ts';
import { AppError } from '../../domain/errors.ts';
import { type AppEnv, requireRole } from '../auth.ts';

/** `?lastEventId=` for clients that cannot set the Last-Event-ID header on a reconnect; the header wins. */
export const alertStreamQuery = z.object({
  lastEventId: z
    .string()
    .regex(/^\d{1,15}$/)
    .optional(),
});

export interface AlertStreamOptions {
  /** Fallback poll when no NOTIFY arrives, ms. */
  pollMs?: number;
  heartbeatMs?: number;
}

const PAGE = 500;

export function alertStreamRouter(db: Pool, opts: AlertStreamOptions = {}) {
  const pollMs = opts.pollMs ?? 2000;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const r = new Hono<AppEnv>();

  r.get('/', requireRole('compliance'), async (c) => {
    const raw = (c.req.header('last-event-id') ?? c.req.query('lastEventId'))?.trim();
    if (raw !== undefined && raw !== '' && !/^\d{1,15}$/.test(raw)) {
      throw new AppError(
        'BAD_REQUEST',
        'Last-Event-ID must be the id of an event this stream sent (a number)',
      );
    }
    // A new client starts at now; a returning one right after the last event it saw.
    let cursor = raw ? Number(raw) : await latestSeq(db);
    const hub = streamHub(db);
    return streamSSE(c, async (stream) => {
      const sub = hub.subscribe();
      stream.onAbort(() => sub.close());
      try {
        // The reconnect delay, and a first line so the client sees the stream open at once.
        await stream.write(`retry: 2000\n: stream open after event ${cursor}\n\n`);
        let lastWrite = Date.now();
        while (!stream.aborted && !stream.closed) {
          const events = await eventsAfter(db, cursor, PAGE);
          for (const e of events) {
            if (stream.aborted) return;
            await stream.writeSSE({
              id: String(e.seq),
              event: 'alert',
              data: JSON.stringify(eventPayload(e)),
            });
            cursor = e.seq;
            lastWrite = Date.now();
          }
          if (events.length === PAGE) continue;
          const idle = Date.now() - lastWrite;
          if (idle >= heartbeatMs) {
            await stream.write(': heartbeat\n\n');
            lastWrite = Date.now();
          }
          await sub.wait(Math.max(10, Math.min(pollMs, heartbeatMs - (Date.now() - lastWrite))));
        }
      } catch (err) {
        // The database went away: end the stream; the client reconnects with Last-Event-ID and loses nothing.
        if (!isTransientDbError(err)) throw err;
      } finally {
        sub.close();
      }
    });
  });

  return r;
}
