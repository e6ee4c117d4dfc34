// LISTEN on PostgreSQL channels over one dedicated connection, reconnecting after errors. A wake-up signal only:
// callers also poll, so a notification lost while disconnected costs latency, never an event.
import pg from 'pg';
import type { Logger } from '../log.ts';

export class PgListener {
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly channels: string[],
    private readonly onNotify: (channel: string, payload: string | undefined) => void,
    private readonly log?: Logger,
    private readonly reconnectMs = 1000,
  ) {}

  start(): void {
    if (this.closed || this.client) return;
    const client = new pg.Client({ connectionString: this.connectionString });
    this.client = client;
    const fail = (err: unknown) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => {});
      if (this.closed) return;
      this.log?.debug({ err }, 'LISTEN connection lost; polling until it is back');
      this.retry = setTimeout(() => this.start(), this.reconnectMs);
      this.retry.unref();
    };
    client.on('error', fail);
    client.on('end', () => fail(new Error('connection ended')));
    client.on('notification', (n) => this.onNotify(n.channel, n.payload));
    client
      .connect()
      .then(async () => {
        for (const ch of this.channels) await client.query(`LISTEN ${pg.escapeIdentifier(ch)}`);
        // A notification sent while we were away is lost: let the owner look once now.
        this.onNotify('', 'reconnected');
      })
      .catch(fail);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
