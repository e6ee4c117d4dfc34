// GET /v1/alerts/stream (compliance): Server-Sent Events of every alert change, read from the outbox. `id:` is the
// event's stream position; a client that reconnects with `Last-Event-ID` (or `?lastEventId=`) gets everything
// after it from the table, so nothing is missed and nothing repeated. New events arrive by LISTEN/NOTIFY from any
// process, with a poll as the fallback; a comment line every 15 s keeps proxies from closing an idle stream.
import { streamSSE } from 'hono/streaming';
import { eventsAfter, latestSeq } from '../../db/outbox.ts';
import { isTransientDbError, type Pool } from '../../db/pool.ts';
import { eventPayload } from '../../delivery/payload.ts';
import { streamHub } from '../../delivery/stream.ts';
import { errorBody } from '../errors.ts';
import { createRouter, defineRoute, z } from '../openapi.ts';

/** An event id this stream sent (its `id:` line); empty or absent: start at now. Surrounding blanks are ignored. */
const eventId = (description: string) =>
  z
    .string()
    .trim()
    .regex(/^\d{0,15}$/, 'must be the id of an event this stream sent (a number)')
    .optional()
    .openapi({ description, example: '1042' });

/** `?lastEventId=` for clients that cannot set the Last-Event-ID header on a reconnect; the header wins. */
export const alertStreamQuery = z.object({
  lastEventId: eventId(
    'resume after this event, for clients that cannot set the Last-Event-ID header (the header wins)',
  ),
});

/** The header EventSource sends on a reconnect: the id of the last event it received. */
export const alertStreamHeaders = z.object({
  'Last-Event-ID': eventId('resume after this event: everything after it is sent first, nothing twice'),
});

export interface AlertStreamOptions {
  /** Fallback poll when no NOTIFY arrives, ms. */
  pollMs?: number;
  heartbeatMs?: number;
  /** Live streams one token subject may hold at once (SSE_MAX_STREAMS_PER_TOKEN); one more is a 429. */
  maxStreamsPerToken?: number;
}

const PAGE = 500;

export function alertStreamRouter(db: Pool, opts: AlertStreamOptions = {}) {
  const pollMs = opts.pollMs ?? 2000;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxStreams = opts.maxStreamsPerToken ?? 4;
  /** Live streams per token `sub`, in this process. */
  const live = new Map<string, number>();
  const r = createRouter();

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: ['compliance'],
      summary: 'Every alert change as Server-Sent Events',
      description:
        'Each change (opened, updated, acknowledged, resolved) is one `alert` event: `data` is the alert as GET /v1/alerts/{id} shows it (without the audit trail) plus `event` (`id`, `action`, `at`, `late`, `actor`, `note`) as JSON, and `id` is its stream position. A new client starts at now; one that reconnects with `Last-Event-ID` (or `?lastEventId=`) first gets every event after that id, so nothing is missed or repeated. A comment line every 15 s keeps idle connections open. An id past the newest event (the stream was reset, e.g. a database restored from a backup) restarts the stream from the newest event, and its first event is a `reset` event saying so (`data`: `requested`, `newest`, `message`). A token subject may hold SSE_MAX_STREAMS_PER_TOKEN live streams at once (default 4); one more is refused with 429.',
      request: { query: alertStreamQuery, headers: alertStreamHeaders },
      responses: {
        200: {
          description: 'an endless text/event-stream of `alert` events',
          content: { 'text/event-stream': { schema: z.string() } },
        },
      },
    }),
    async (c) => {
      const who = c.get('principal').sub;
      const open = live.get(who) ?? 0;
      if (open >= maxStreams) {
        return c.json(
          errorBody(
            'RATE_LIMITED',
            `token sub ${who} holds ${open} live streams already (SSE_MAX_STREAMS_PER_TOKEN=${maxStreams}): close one first`,
          ),
          429,
          { 'Retry-After': '5' },
        );
      }
      // The header wins over the query; empty means "start at now", like no id at all.
      const raw = c.req.valid('header')['Last-Event-ID'] ?? c.req.valid('query').lastEventId;
      const newest = await latestSeq(db);
      // A new client starts at now; a returning one right after the last event it saw. An id past the newest
      // (a database restored from backup, a client of another installation) would wait for events that are
      // numbered below it: restart from the newest, and say so.
      const asked = raw ? Number(raw) : undefined;
      const reset = asked !== undefined && asked > newest;
      let cursor = asked === undefined || reset ? newest : asked;
      const hub = streamHub(db);
      live.set(who, open + 1);
      return streamSSE(c, async (stream) => {
        const sub = hub.subscribe();
        stream.onAbort(() => sub.close());
        try {
          // The reconnect delay, and a first line so the client sees the stream open at once.
          // `id:` without data sets the client's last event id at once: a client that drops before its first
          // event reconnects from here and misses nothing raised meanwhile.
          await stream.write(
            reset
              ? `retry: 2000\n${resetEvent(asked, newest)}`
              : `retry: 2000\nid: ${cursor}\n: stream open after event ${cursor}\n\n`,
          );
          let lastWrite = Date.now();
          // The stream is authorised by its token: it ends when the token does (the client reconnects with a new one).
          const exp = c.get('principal').exp;
          const endsAt = exp ? exp * 1000 : Number.POSITIVE_INFINITY;
          while (!stream.aborted && !stream.closed) {
            if (Date.now() >= endsAt) {
              await stream.write(': token expired; reconnect with a fresh token\n\n');
              return;
            }
            const events = (await hub.latestSeq()) > cursor ? await eventsAfter(db, cursor, PAGE) : [];
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
            await sub.wait(
              Math.max(10, Math.min(pollMs, heartbeatMs - (Date.now() - lastWrite), endsAt - Date.now())),
            );
          }
        } catch (err) {
          // The database went away: end the stream; the client reconnects with Last-Event-ID and loses nothing.
          if (!isTransientDbError(err)) throw err;
        } finally {
          sub.close();
          const n = (live.get(who) ?? 1) - 1;
          if (n > 0) live.set(who, n);
          else live.delete(who);
        }
      });
    },
  );

  return r;
}

/** The first event of a stream resumed past the newest event: where it restarts, and why. */
export function resetEvent(requested: number, newest: number): string {
  const data = {
    requested,
    newest,
    message: `no event ${requested} exists (the newest is ${newest}): the stream restarts after event ${newest}; events you hold with higher ids are not from this stream`,
  };
  return `id: ${newest}\nevent: reset\ndata: ${JSON.stringify(data)}\n\n`;
}
