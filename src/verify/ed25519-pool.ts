// Ed25519 verification with libsodium (sodium-native) on a small pool of worker threads, off the event loop.
// Verifications requested in the same tick (one screening call asks for a whole batch synchronously) are packed
// into a few chunks, one ArrayBuffer each, transferred to the least loaded worker; each worker answers one byte per
// verification. A worker that dies rejects its pending verifications (the caller falls back to node:crypto for
// those: src/verify/jws.ts) and is restarted. Idle workers are unref'd: they never keep a process alive.
import { Worker } from 'node:worker_threads';

const PK_BYTES = 32;
const SIG_BYTES = 64;
/** Consecutive failures of one worker slot (no chunk answered in between) before it is given up. */
const MAX_CONSECUTIVE_CRASHES = 5;

/** A chunk (at most a few hundred verifications, ~25 ms of work) not answered in this long means a stuck worker. */
const CHUNK_DEADLINE_MS = 10_000;
/** A fresh worker's first answer may take this long (starting up is not hanging), whatever the chunk deadline. */
const START_GRACE_MS = 5_000;

/** The two logger methods the pool uses (a pino logger fits). */
export interface PoolLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Thrown (as a rejection) for verifications a worker could not answer: verify them another way. */
export class VerifyWorkerUnavailable extends Error {}

interface Job {
  data: Buffer;
  sig: Buffer;
  pk: Buffer;
  resolve(ok: boolean): void;
  reject(e: Error): void;
}

interface Slot {
  index: number;
  worker: Worker | undefined;
  /** Chunks posted and not answered, by id. */
  inFlight: Map<number, Job[]>;
  /** Verifications in flight on this worker. */
  items: number;
  crashes: number;
  /** The current worker has answered at least once: it has started (loading libsodium takes a while under load). */
  answered: boolean;
}

export interface PoolStats {
  /** Verifications answered by a worker. */
  verified: number;
  chunks: number;
  /** Workers that died while the pool was open. */
  crashes: number;
  restarts: number;
  /** Verifications rejected because no worker could answer them (verified elsewhere by the caller). */
  unavailable: number;
}

export interface PoolOptions {
  log?: PoolLog;
  /** Most verifications in one message to a worker. */
  maxChunk?: number;
  /** A chunk not answered in this long means a stuck worker (default 10 s). */
  chunkDeadlineMs?: number;
}

export class Ed25519Pool {
  private readonly slots: Slot[];
  private queue: Job[] = [];
  private flushScheduled = false;
  private nextId = 1;
  private closed = false;
  private readonly log: PoolLog | undefined;
  private readonly maxChunk: number;
  private readonly watchdogs = new Map<number, NodeJS.Timeout>();
  private readonly chunkDeadlineMs: number;
  readonly stats: PoolStats = { verified: 0, chunks: 0, crashes: 0, restarts: 0, unavailable: 0 };

  constructor(
    readonly size: number,
    opts: PoolOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`an Ed25519 pool needs ≥ 1 worker, got ${size}`);
    this.log = opts.log;
    this.maxChunk = opts.maxChunk ?? 256;
    this.chunkDeadlineMs = opts.chunkDeadlineMs ?? CHUNK_DEADLINE_MS;
    this.slots = Array.from({ length: size }, (_, index) => ({
      index,
      worker: undefined,
      inFlight: new Map(),
      items: 0,
      crashes: 0,
      answered: false,
    }));
    for (const slot of this.slots) this.spawn(slot);
  }

  /** Live workers (a slot given up after repeated crashes has none). */
  get live(): number {
    return this.slots.filter((s) => s.worker !== undefined).length;
  }

  /**
   * Resolves true when `sig` is a valid Ed25519 signature of `data` by the raw 32-byte public key `pk`, false
   * otherwise; rejects with VerifyWorkerUnavailable when no worker could answer (pool closed, worker died).
   */
  verify(data: Buffer, sig: Buffer, pk: Buffer): Promise<boolean> {
    if (sig.length !== SIG_BYTES || pk.length !== PK_BYTES) return Promise.resolve(false);
    if (this.closed || this.live === 0) {
      this.stats.unavailable++;
      return Promise.reject(new VerifyWorkerUnavailable('no Ed25519 verify worker is running'));
    }
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ data, sig, pk, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  /** Terminates every worker; verifications still pending are rejected (the caller verifies them itself). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const queued = this.queue;
    this.queue = [];
    this.fail(queued, 'the verify pool closed');
    await Promise.all(
      this.slots.map(async (slot) => {
        const w = slot.worker;
        if (!w) return;
        await w.terminate();
        this.onGone(slot, w, 'the verify pool closed');
      }),
    );
  }

  /** Test hook: keeps one worker busy for `ms`, as a stuck worker would be. */
  stallWorkerForTest(index: number, ms: number): void {
    this.slots[index]?.worker?.postMessage({ stallMs: ms });
  }
  /** Test hook: kills one worker as a crash would (its pending verifications must not be lost). */
  terminateWorkerForTest(index = 0): Promise<number> {
    const w = this.slots[index]?.worker;
    return w ? w.terminate() : Promise.resolve(0);
  }

  private spawn(slot: Slot): void {
    // Plain JavaScript: no loader (tsx, vitest) is needed in the worker, so none is passed down.
    const worker = new Worker(new URL('./ed25519-worker.js', import.meta.url), { execArgv: [] });
    slot.worker = worker;
    slot.answered = false;
    worker.on('message', (m: { id: number; results: Uint8Array }) => this.onResults(slot, worker, m));
    worker.on('error', (err) => this.onGone(slot, worker, `worker error: ${err.message}`, err));
    worker.on('messageerror', (err) => {
      this.log?.error({ err, worker: slot.index }, 'Ed25519 verify worker: message could not be read');
      void worker.terminate();
    });
    worker.on('exit', (code) => this.onGone(slot, worker, `worker exited with code ${code}`));
    // After the listeners: adding a 'message' listener refs the worker again.
    worker.unref();
  }

  private flush(): void {
    this.flushScheduled = false;
    const jobs = this.queue;
    this.queue = [];
    const live = this.slots.filter((s) => s.worker !== undefined);
    if (this.closed || live.length === 0) {
      this.fail(jobs, 'no Ed25519 verify worker is running');
      return;
    }
    const per = Math.min(this.maxChunk, Math.ceil(jobs.length / live.length));
    for (let i = 0; i < jobs.length; i += per) {
      let slot = live[0]!;
      for (const s of live) if (s.items < slot.items) slot = s;
      this.post(slot, jobs.slice(i, i + per));
    }
  }

  private post(slot: Slot, jobs: Job[]): void {
    const n = jobs.length;
    let dataBytes = 0;
    for (const j of jobs) dataBytes += j.data.length;
    const buf = new ArrayBuffer(n * (PK_BYTES + SIG_BYTES) + dataBytes);
    const bytes = new Uint8Array(buf);
    const ends = new Uint32Array(n);
    const sigsAt = n * PK_BYTES;
    let at = sigsAt + n * SIG_BYTES;
    const dataAt = at;
    jobs.forEach((j, i) => {
      bytes.set(j.pk, i * PK_BYTES);
      bytes.set(j.sig, sigsAt + i * SIG_BYTES);
      bytes.set(j.data, at);
      at += j.data.length;
      ends[i] = at - dataAt;
    });
    const id = this.nextId++;
    const worker = slot.worker!;
    if (slot.inFlight.size === 0) worker.ref();
    slot.inFlight.set(id, jobs);
    slot.items += n;
    this.stats.chunks++;
    worker.postMessage({ id, n, buf, ends }, [buf, ends.buffer]);
    // A hung worker would hold these forever: past the deadline it is dead (node:crypto verifies them, it is replaced).
    const deadlineMs = slot.answered ? this.chunkDeadlineMs : Math.max(this.chunkDeadlineMs, START_GRACE_MS);
    const watchdog = setTimeout(() => {
      if (slot.worker !== worker || !slot.inFlight.has(id)) return;
      this.onGone(slot, worker, `no answer within ${deadlineMs} ms`);
      void worker.terminate();
    }, deadlineMs);
    watchdog.unref();
    this.watchdogs.set(id, watchdog);
  }

  private onResults(slot: Slot, worker: Worker, m: { id: number; results: Uint8Array }): void {
    if (slot.worker !== worker) return;
    clearTimeout(this.watchdogs.get(m.id));
    this.watchdogs.delete(m.id);
    const jobs = slot.inFlight.get(m.id);
    if (!jobs) return;
    slot.inFlight.delete(m.id);
    slot.items -= jobs.length;
    slot.crashes = 0;
    slot.answered = true;
    if (slot.inFlight.size === 0) worker.unref();
    this.stats.verified += jobs.length;
    jobs.forEach((j, i) => {
      j.resolve(m.results[i] === 1);
    });
  }

  /** A worker is gone (error, exit, terminate): reject what it held, restart it unless closing. Idempotent. */
  private onGone(slot: Slot, worker: Worker, why: string, err?: Error): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    const pending = [...slot.inFlight.values()].flat();
    slot.inFlight.clear();
    slot.items = 0;
    this.fail(pending, `Ed25519 verify worker ${slot.index} is gone: ${why}`);
    if (this.closed) return;
    this.stats.crashes++;
    slot.crashes++;
    if (slot.crashes > MAX_CONSECUTIVE_CRASHES) {
      this.log?.error(
        { err, worker: slot.index, crashes: slot.crashes, live: this.live },
        'Ed25519 verify worker keeps failing; not restarting it (node:crypto verifies when none is left)',
      );
      return;
    }
    this.log?.error(
      { err, worker: slot.index, why, pending: pending.length },
      'Ed25519 verify worker died; its pending verifications go to node:crypto; restarting it',
    );
    this.stats.restarts++;
    this.spawn(slot);
  }

  private fail(jobs: Job[], why: string): void {
    if (jobs.length === 0) return;
    this.stats.unavailable += jobs.length;
    const e = new VerifyWorkerUnavailable(why);
    for (const j of jobs) j.reject(e);
  }
}

// The process-wide pool that verifySignature uses. Ingest acquires it on start and releases it on stop; several
// ingests in one process (tests) share one pool, closed when the last releases it.
let shared: { pool: Ed25519Pool; users: number } | undefined;

/** The pool verifySignature sends Ed25519 verifications to, if one is running. */
export function ed25519Workers(): Ed25519Pool | undefined {
  return shared?.pool;
}

/**
 * Starts (or joins) the process-wide pool of `size` workers; 0 leaves Ed25519 on node:crypto and libuv's thread
 * pool. Call `release` on stop: the last release closes the workers.
 */
export function acquireEd25519Workers(
  size: number,
  opts: PoolOptions = {},
): { pool: Ed25519Pool | undefined; release(): Promise<void> } {
  if (size <= 0) return { pool: undefined, release: async () => {} };
  if (!shared) shared = { pool: new Ed25519Pool(size, opts), users: 0 };
  const mine = shared;
  mine.users++;
  let released = false;
  return {
    pool: mine.pool,
    release: async () => {
      if (released) return;
      released = true;
      mine.users--;
      if (mine.users > 0) return;
      if (shared === mine) shared = undefined;
      await mine.pool.close();
    },
  };
}
