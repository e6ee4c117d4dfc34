// INGEST_ROUTING=by-sender: every worker subscribes to every inbound topic (no shared group) and handles only the
// senders it owns among the live workers (src/ingest/owners.ts). The live list comes from the ingest_workers leases
// (src/db/ingest-workers.ts), renewed every third of INGEST_WORKER_LEASE_S. A worker that stops cleanly gives its
// lease up and the others take its senders at their next renewal; one that dies is dropped when its lease runs out.
// A message skipped in the meantime is not lost: it was never acked to its tracker, which sends it again.
import { dropWorkerLease, renewWorkerLease } from '../db/ingest-workers.ts';
import type { Pool } from '../db/pool.ts';
import type { Logger } from '../log.ts';
import { ownerOf } from './owners.ts';

/** Owner decisions kept per topic between membership changes; cleared when it grows past this. */
const MEMO_MAX = 200_000;

export class WorkerMembership {
  private workers: readonly string[] = [];
  private memo = new Map<string, boolean>();
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly pool: Pool,
    readonly workerId: string,
    private readonly leaseS: number,
    private readonly log: Logger,
    private readonly onChange: (workers: readonly string[]) => void = () => {},
  ) {}

  /** Takes the first lease (throws when the database cannot be reached), then renews it in the background. */
  async start(): Promise<void> {
    this.apply(await renewWorkerLease(this.pool, this.workerId, this.leaseS));
    this.timer = setInterval(() => void this.renew(), (this.leaseS * 1000) / 3);
    this.timer.unref();
  }

  /** Does this worker handle the sender publishing on `topic`? */
  owns(topic: string): boolean {
    let mine = this.memo.get(topic);
    if (mine === undefined) {
      mine = ownerOf(topic, this.workers) === this.workerId;
      if (this.memo.size >= MEMO_MAX) this.memo.clear();
      this.memo.set(topic, mine);
    }
    return mine;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
    await dropWorkerLease(this.pool, this.workerId).catch((err) =>
      this.log.warn({ err }, 'could not give the ingest lease up; the others take over when it runs out'),
    );
  }

  private renew(): Promise<void> {
    this.renewing ??= renewWorkerLease(this.pool, this.workerId, this.leaseS)
      .then((workers) => {
        if (this.failing) this.log.info('ingest lease renewed again');
        this.failing = false;
        this.apply(workers);
      })
      .catch((err) => {
        // Keep the last list: with the database down nothing commits anyway, and the others keep theirs.
        if (!this.failing)
          this.log.warn({ err }, 'renewing the ingest lease failed; keeping the last worker list');
        this.failing = true;
      })
      .finally(() => {
        this.renewing = undefined;
      });
    return this.renewing;
  }

  private apply(workers: string[]): void {
    if (workers.length === this.workers.length && workers.every((w, i) => w === this.workers[i])) return;
    this.log.info({ workers, self: this.workerId }, 'ingest workers changed; senders re-shared by owner');
    this.workers = workers;
    this.memo.clear();
    this.onChange(workers);
  }
}
