// Runs the pipeline for one batch until it is committed: screening (signatures) of the next batch overlaps the
// commit of this one, commits happen strictly in arrival order, and a database outage is waited out with
// exponential backoff — the batch is neither dropped nor acknowledged until it is committed.
import { isTransientDbError } from '../db/pool.ts';
import type { Inbound } from '../domain/messages.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { BatchOutcome, IngestPipeline } from './pipeline.ts';
import { mergeAcks } from './stages/acks.ts';

export interface ProcessorOptions {
  /** True once shutdown began: a batch still failing then is given up (not acked; the broker redelivers it). */
  stopping(): boolean;
  onDatabase(up: boolean): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function backoffMs(attempt: number): number {
  const base = Math.min(5000, 100 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

export class BatchProcessor {
  private commitChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pipeline: IngestPipeline,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly o: ProcessorOptions,
  ) {}

  /** Resolves with the outcome once committed, or undefined when shutdown gave up on it. */
  async process(batch: Inbound[]): Promise<BatchOutcome | undefined> {
    const turn = this.commitChain;
    let release!: () => void;
    this.commitChain = new Promise<void>((r) => {
      release = r;
    });
    try {
      let screened: Awaited<ReturnType<IngestPipeline['screen']>> | undefined;
      try {
        screened = await this.retrying(() => this.pipeline.screen(batch), 'screen');
      } catch (e) {
        // A message the key lookup chokes on must not take its batch down unacknowledged: one by one, the
        // culprit becomes an INTERNAL_ERROR rejection and the rest are stored.
        this.log.error({ err: e, size: batch.length }, 'screening failed; storing the batch one by one');
        await turn;
        return await this.oneByOne(batch);
      }
      if (!screened) return undefined;
      await turn;
      for (let attempt = 0; ; attempt++) {
        const started = process.hrtime.bigint();
        try {
          const outcome = await this.pipeline.commit(screened);
          this.metrics.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
          this.metrics.batchSize.observe(batch.length);
          this.o.onDatabase(true);
          return outcome;
        } catch (e) {
          if (isTransientDbError(e)) {
            if (!(await this.waitOut(e, attempt, 'commit'))) return undefined;
            continue;
          }
          this.log.error(
            { err: e, size: batch.length },
            'batch failed for a reason other than the database being down; storing its messages one by one',
          );
          return await this.oneByOne(batch);
        }
      }
    } finally {
      release();
    }
  }

  private async oneByOne(batch: Inbound[]): Promise<BatchOutcome | undefined> {
    const outcome: BatchOutcome = { verdicts: [], acks: new Map(), siteAcks: new Map(), alerts: [] };
    for (const msg of batch) {
      const single = await this.retrying(async () => {
        try {
          return await this.pipeline.commit(await this.pipeline.screen([msg]));
        } catch (e) {
          if (isTransientDbError(e)) throw e;
          this.log.error(
            { err: e, topic: msg.topic },
            'message could not be stored; kept as an INTERNAL_ERROR rejection',
          );
          return this.pipeline.commitAsInternalError(msg, e);
        }
      }, 'commit one');
      if (!single) return undefined;
      outcome.verdicts.push(...single.verdicts);
      outcome.alerts.push(...single.alerts);
      for (const [d, a] of single.acks) outcome.acks.set(d, mergeAcks(outcome.acks.get(d), a));
      for (const [d, a] of single.siteAcks) outcome.siteAcks.set(d, mergeAcks(outcome.siteAcks.get(d), a));
    }
    return outcome;
  }

  private async retrying<T>(fn: () => Promise<T>, what: string): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await fn();
        this.o.onDatabase(true);
        return result;
      } catch (e) {
        if (!isTransientDbError(e)) throw e;
        if (!(await this.waitOut(e, attempt, what))) return undefined;
      }
    }
  }

  private async waitOut(e: unknown, attempt: number, what: string): Promise<boolean> {
    this.o.onDatabase(false);
    this.metrics.batchRetries.inc();
    if (this.o.stopping() && attempt >= 3) return false;
    const wait = backoffMs(attempt);
    if (attempt === 0 || attempt % 10 === 0) {
      this.log.warn(
        { err: (e as Error).message, attempt, retryInMs: Math.round(wait) },
        `database unavailable during ${what}; retrying`,
      );
    }
    await sleep(wait);
    return true;
  }
}
