// Entry of the corridor worker (src/geo/corridor-worker.ts) when chipwatch runs from its TypeScript sources (tsx,
// vitest): loads the TypeScript through tsx's loader, registered in this thread. The build (dist/) starts the
// compiled corridor-worker.js directly and never reads this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
