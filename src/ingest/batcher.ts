// A bounded micro-batcher: flushes at `maxBatch` items or `maxWaitMs`, runs at most `concurrency` batches at once,
// and tells its owner to stop reading (pause) when `capacity` items wait, and to read again (resume) below half.
export interface BatcherOptions<T> {
  maxBatch: number;
  maxWaitMs: number;
  capacity: number;
  concurrency: number;
  handle(items: T[]): Promise<void>;
  pause(): void;
  resume(): void;
}

export class Batcher<T> {
  private queue: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = 0;
  private paused = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: BatcherOptions<T>) {}

  get depth(): number {
    return this.queue.length;
  }

  push(item: T): void {
    this.queue.push(item);
    if (!this.paused && this.queue.length >= this.o.capacity) {
      this.paused = true;
      this.o.pause();
    }
    if (this.queue.length >= this.o.maxBatch) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.o.maxWaitMs);
  }

  /** Flushes everything queued and waits until no batch is running. */
  async drain(): Promise<void> {
    this.kick(true);
    while (this.running > 0 || this.queue.length > 0) {
      await new Promise<void>((r) => this.idleWaiters.push(r));
      this.kick(true);
    }
  }

  private kick(force = false): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.running < this.o.concurrency && this.queue.length > 0) {
      if (!force && this.queue.length < this.o.maxBatch && this.running > 0) break;
      const items = this.queue.splice(0, this.o.maxBatch);
      this.running++;
      void this.o
        .handle(items)
        .catch(() => {})
        .finally(() => {
          this.running--;
          if (this.paused && this.queue.length <= this.o.capacity / 2) {
            this.paused = false;
            this.o.resume();
          }
          if (this.queue.length >= this.o.maxBatch) this.kick();
          else if (this.queue.length > 0) this.timer ??= setTimeout(() => this.kick(), this.o.maxWaitMs);
          const waiters = this.idleWaiters.splice(0);
          for (const w of waiters) w();
        });
    }
  }
}
