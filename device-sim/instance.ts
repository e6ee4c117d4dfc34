// One scenario instance of a run (its ids, plan, keys and trackers), and the options a run is given.
import type { DeviceAlg, DeviceKey } from './keys.ts';
import { type Plan, planScenario } from './plan.ts';
import type { NamedScenario, Scenario } from './scenario.ts';
import type { Tracker } from './tracker.ts';

export interface RunOptions {
  apiUrl: string;
  mqttUrl: string;
  token: string;
  topicPrefix?: string;
  speedup: number;
  /** One entry per simulated shipment (and its sites): the same scenario may appear several times. */
  scenarios: NamedScenario[];
  idPrefix: string;
  alg?: DeviceAlg;
  seed?: number;
  /** Progress lines (stderr in the CLI). */
  say?: (line: string) => void;
  progressEveryMs?: number;
  drainTimeoutMs?: number;
  /** How long to wait for timer-driven alerts (SIGNAL_LOST, CHIP_MISSING) after the last ack. */
  settleMs?: number;
  /** Set to stop early (Ctrl-C): actions stop, acks are still awaited. */
  signal?: AbortSignal;
}

export interface Instance {
  name: string;
  nn: string;
  scenario: Scenario;
  plan: Plan;
  baseMs: number;
  deviceId?: string;
  shipmentId?: string;
  key?: DeviceKey;
  tracker?: Tracker;
  chips: string[];
  sites: Map<string, { id: string; key: DeviceKey; tracker: Tracker }>;
  sentRecords: number;
}

/** The i-th instance of a run: ids under the run's prefix, the plan seeded per instance; keys and trackers come later. */
export function newInstance(o: RunOptions, i: number, ns: NamedScenario): Instance {
  const nn = String(i + 1).padStart(2, '0');
  const sh = ns.scenario.shipment;
  const plan = planScenario(ns.scenario, { seed: (o.seed ?? 1) * 1000 + i });
  const base = `${o.idPrefix}-${nn}`;
  return {
    name: ns.name,
    nn,
    scenario: ns.scenario,
    plan,
    baseMs: 0,
    ...(sh ? { deviceId: `${base}-trk`, shipmentId: `${base}-${ns.name}` } : {}),
    chips: Array.from({ length: sh?.chips ?? 0 }, (_, k) => `${base}-GPU-${String(k + 1).padStart(4, '0')}`),
    sites: new Map(),
    sentRecords: 0,
  };
}

export function allTrackers(insts: Instance[]): Tracker[] {
  return insts.flatMap((i) => [
    ...(i.tracker ? [i.tracker] : []),
    ...[...i.sites.values()].map((s) => s.tracker),
  ]);
}

export function siteIdsOf(inst: Instance): string[] {
  return [...inst.sites.values()].map((s) => s.id);
}
