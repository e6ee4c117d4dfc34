// Corridor polygons built on a worker thread (src/geo/corridor-worker.ts), off the event loop: buffering a long
// route takes a tenth of a second to seconds of CPU. One worker, started on first use, is enough: corridors are
// built once per shipment (at registration, when its width changes). While it has nothing to do it keeps no process
// alive, and after IDLE_MS it stops (a later build starts it again). A worker that dies fails the builds it held;
// the next build starts a new one.
import { Worker } from 'node:worker_threads';
import type { MultiPolygon, Polygon } from 'geojson';
import type { CorridorRequest } from './corridor-worker.ts';
import type { PlannedRoute } from './types.ts';

export type Corridor = Polygon | MultiPolygon;

/** An idle worker stops after this long. */
const IDLE_MS = 60_000;

/** Run from the TypeScript sources (tsx, vitest) rather than the build (dist/, plain JavaScript). */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

function startWorker(): Worker {
  // From the sources the TypeScript worker is loaded through tsx (corridor-worker-source.js); the build's worker is
  // JavaScript. Neither takes the parent's flags (a test runner's, a profiler's).
  if (!FROM_SOURCE) return new Worker(new URL('./corridor-worker.js', import.meta.url), { execArgv: [] });
  return new Worker(new URL('./corridor-worker-source.js', import.meta.url), {
    execArgv: [],
    workerData: { entry: new URL('./corridor-worker.ts', import.meta.url).href },
  });
}

interface Pending {
  resolve(c: Corridor): void;
  reject(e: Error): void;
}

export class CorridorBuilder {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Corridors built (answered by a worker), for tests and metrics. */
  built = 0;

  constructor(private readonly idleMs = IDLE_MS) {}

  /** The corridor, `corridorKm` either side of `route`, exactly as corridorPolygon (src/geo/routes.ts) draws it. */
  build(route: PlannedRoute, corridorKm: number): Promise<Corridor> {
    const worker = this.worker ?? this.spawn();
    clearTimeout(this.idleTimer);
    worker.ref();
    const id = this.nextId++;
    return new Promise<Corridor>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, route, corridorKm } satisfies CorridorRequest);
    });
  }

  /** Stops the worker; builds in flight fail. */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const w = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the corridor builder was closed'));
    await w?.terminate();
  }

  private spawn(): Worker {
    const worker = startWorker();
    this.worker = worker;
    worker.on('message', (m: { id: number; corridor?: Corridor; error?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else {
        this.built++;
        p?.resolve(m.corridor!);
      }
      if (this.pending.size === 0) this.idle(worker);
    });
    const died = (e: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(e);
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`the corridor worker exited (code ${code})`)));
    return worker;
  }

  /** Nothing to do: keep no process alive, and stop after idleMs. */
  private idle(worker: Worker): void {
    worker.unref();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.worker !== worker || this.pending.size > 0) return;
      this.worker = undefined;
      void worker.terminate();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private failAll(e: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(e);
  }
}
