// A chipwatch on a fresh test database with a broker of its own, for the suite that calls useChipwatch: started
// before its tests, stopped after them. Tests read `env.cw`, `env.broker` and `env.databaseUrl`; a tracker a test
// leaves in `env.tracker` is closed first.
import { afterAll, beforeAll, inject } from 'vitest';
import type { Tracker } from '../../device-sim/tracker.ts';
import { startAedes, type TestBroker } from './broker.ts';
import { startTestChipwatch, type TestChipwatch } from './chipwatch.ts';
import { createTestDatabase } from './postgres.ts';

export interface ChipwatchEnv<B> {
  cw: TestChipwatch;
  broker: B;
  databaseUrl: string;
  tracker?: Tracker;
}

/**
 * `settings`: configuration on top of the test defaults. `startBroker`: the broker (an authenticating aedes that
 * reads trackers' credentials from chipwatch's database by default; startOpenAedes for one without).
 */
export function useChipwatch<B extends { url: string; stop(): Promise<void> } = TestBroker>(
  settings: Record<string, string> = {},
  startBroker: () => Promise<B> = startAedes as unknown as () => Promise<B>,
): ChipwatchEnv<B> {
  const env = {} as ChipwatchEnv<B>;
  beforeAll(async () => {
    env.databaseUrl = await createTestDatabase(inject('pgAdminUrl'));
    env.broker = await startBroker();
    env.cw = await startTestChipwatch({
      ...settings,
      DATABASE_URL: env.databaseUrl,
      MQTT_URL: env.broker.url,
    });
  });
  afterAll(async () => {
    await env.tracker?.close();
    await env.cw?.stop();
    await env.broker?.stop();
  });
  return env;
}
