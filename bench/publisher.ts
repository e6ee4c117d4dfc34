// The benchmark's publisher is the simulator's load mode (device-sim/load.ts, run by bench/run-publisher.ts as
// `device-sim/cli.ts --load --load-file F --json`); this name stays for the result type the report reads.
export type { LoadResult as PublisherResult } from '../device-sim/load.ts';
