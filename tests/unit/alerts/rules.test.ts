// The alert lifecycle rules, driven by event sequences: no database.
import { describe, expect, it } from 'vitest';
import {
  type AlertStep,
  alertKey,
  type MergedRaise,
  planAlertSteps,
  transitionOutcome,
} from '../../../src/alerts/rules.ts';
import type { AlertType, SubjectEvent } from '../../../src/domain/alerts.ts';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;

function ev(
  type: AlertType,
  at: number,
  details: Record<string, unknown> = {},
  over: Partial<SubjectEvent> = {},
): SubjectEvent {
  return {
    type,
    action: 'raise',
    at,
    details,
    subject: 'shp-1',
    shipmentId: 'shp-1',
    deviceId: 'trk-1',
    ...over,
  };
}
const resolve = (type: AlertType, at: number, details: Record<string, unknown> = {}, subject = 'shp-1') =>
  ev(type, at, details, { action: 'resolve', subject });

const raises = (steps: AlertStep[]): MergedRaise[] =>
  steps.flatMap((s) => (s.kind === 'raise' ? [s.raise] : []));
const kinds = (steps: AlertStep[]) => steps.map((s) => `${s.kind} ${s.key.replace('\0', ' ')}`);

describe('planAlertSteps: merging a batch', () => {
  it('merges three raises of one alert into one step that counts 3 and spans the first to the last evidence', () => {
    const steps = planAlertSteps([
      ev('ROUTE_DEVIATION', T0, { n: 1 }),
      ev('ROUTE_DEVIATION', T0 + MIN, { n: 2 }),
      ev('ROUTE_DEVIATION', T0 + 2 * MIN, { n: 3 }),
    ]);
    expect(steps).toHaveLength(1);
    const [r] = raises(steps);
    expect(r).toMatchObject({ count: 3, firstAtMs: T0, lastAtMs: T0 + 2 * MIN, severity: 'warning' });
    expect(r!.event.details).toEqual({ n: 3 });
  });

  it('keeps the latest evidence even when it arrives first, and the earliest time from the late one', () => {
    const [r] = raises(
      planAlertSteps([ev('TAMPER', T0 + 5 * MIN, { latest: true }), ev('TAMPER', T0, { latest: false })]),
    );
    expect(r).toMatchObject({ count: 2, firstAtMs: T0, lastAtMs: T0 + 5 * MIN, severity: 'critical' });
    expect(r!.event.details).toEqual({ latest: true });
  });

  it('evidence at the same time as the latest replaces its details', () => {
    const [r] = raises(planAlertSteps([ev('TAMPER', T0, { n: 1 }), ev('TAMPER', T0, { n: 2 })]));
    expect(r!.event.details).toEqual({ n: 2 });
    expect(r!.lastAtMs).toBe(T0);
  });

  it('accumulates serials for CHIP_AT_UNEXPECTED_SITE, sorted and once each, whatever order the evidence came in', () => {
    const site = { subject: 'site:fab-2:unexpected', shipmentId: null, deviceId: null, siteId: 'fab-2' };
    const [r] = raises(
      planAlertSteps([
        ev('CHIP_AT_UNEXPECTED_SITE', T0 + MIN, { serials: ['S3', 'S1'], at: 'b' }, site),
        ev('CHIP_AT_UNEXPECTED_SITE', T0, { serials: ['S2', 'S1'], at: 'a' }, site),
        ev('CHIP_AT_UNEXPECTED_SITE', T0 + 2 * MIN, { serials: ['S4'], at: 'c' }, site),
      ]),
    );
    expect(r!.accumulatesSerials).toBe(true);
    expect(r!.count).toBe(3);
    expect(r!.event.details).toEqual({ serials: ['S1', 'S2', 'S3', 'S4'], at: 'c' });
    expect(r!.event.siteId).toBe('fab-2');
  });

  it('CHIP_MISSING keeps only the serials missing now', () => {
    const site = { subject: 'site:fab-2:missing', shipmentId: null, deviceId: null, siteId: 'fab-2' };
    const [r] = raises(
      planAlertSteps([
        ev('CHIP_MISSING', T0, { serials: ['S1', 'S2'] }, site),
        ev('CHIP_MISSING', T0 + MIN, { serials: ['S2'] }, site),
      ]),
    );
    expect(r!.accumulatesSerials).toBe(false);
    expect(r!.event.details).toEqual({ serials: ['S2'] });
  });

  it('keeps different subjects and types apart, applied in the order they were first raised', () => {
    const steps = planAlertSteps([
      ev('ROUTE_DEVIATION', T0),
      ev('TAMPER', T0),
      ev('ROUTE_DEVIATION', T0, {}, { subject: 'shp-2', shipmentId: 'shp-2' }),
      ev('ROUTE_DEVIATION', T0 + MIN),
    ]);
    expect(kinds(steps)).toEqual([
      'raise ROUTE_DEVIATION shp-1',
      'raise TAMPER shp-1',
      'raise ROUTE_DEVIATION shp-2',
    ]);
    expect(raises(steps).map((r) => r.count)).toEqual([2, 1, 1]);
  });
});

describe('planAlertSteps: resolving in a batch', () => {
  it('applies the merged raise just before a resolve of the same alert, then opens a new one for later raises', () => {
    const steps = planAlertSteps([
      ev('SIGNAL_LOST', T0),
      ev('TAMPER', T0),
      ev('SIGNAL_LOST', T0 + MIN),
      resolve('SIGNAL_LOST', T0 + 2 * MIN, { reason: 'fix received' }),
      ev('SIGNAL_LOST', T0 + 3 * MIN),
    ]);
    expect(kinds(steps)).toEqual([
      'raise SIGNAL_LOST shp-1',
      'resolve SIGNAL_LOST shp-1',
      'raise TAMPER shp-1',
      'raise SIGNAL_LOST shp-1',
    ]);
    const [lost, , again] = raises(steps);
    expect(lost).toMatchObject({ count: 2, firstAtMs: T0, lastAtMs: T0 + MIN });
    expect(again).toMatchObject({ count: 1, firstAtMs: T0 + 3 * MIN });
  });

  it('a resolve names its reason as the resolution and the audit note', () => {
    const [step] = planAlertSteps([resolve('ROUTE_DEVIATION', T0, { reason: 'back on route' })]);
    expect(step).toMatchObject({
      kind: 'resolve',
      resolve: { resolution: 'back on route', note: 'back on route' },
    });
  });

  it('a resolve without a reason: "condition cleared" as the resolution, an empty note', () => {
    const [step] = planAlertSteps([resolve('ROUTE_DEVIATION', T0)]);
    expect(step).toMatchObject({ kind: 'resolve', resolve: { resolution: 'condition cleared', note: '' } });
  });

  it('a resolve of an alert not raised in the batch is a step of its own (the open alert may be in the table)', () => {
    expect(kinds(planAlertSteps([resolve('TAMPER', T0), ev('ROUTE_DEVIATION', T0)]))).toEqual([
      'resolve TAMPER shp-1',
      'raise ROUTE_DEVIATION shp-1',
    ]);
  });

  it('an empty batch has no steps', () => {
    expect(planAlertSteps([])).toEqual([]);
  });

  it('keys name the type and the subject', () => {
    expect(alertKey({ type: 'TAMPER', subject: 'a' })).not.toBe(alertKey({ type: 'TAMPER', subject: 'b' }));
    expect(alertKey({ type: 'TAMPER', subject: 'a' })).not.toBe(
      alertKey({ type: 'SIGNAL_LOST', subject: 'a' }),
    );
  });
});

describe('transitionOutcome: what a person may do', () => {
  it('open → acknowledged and open or acknowledged → resolved are allowed', () => {
    expect(transitionOutcome('open', 'acknowledged')).toBe('ok');
    expect(transitionOutcome('open', 'resolved')).toBe('ok');
    expect(transitionOutcome('acknowledged', 'resolved')).toBe('ok');
  });

  it('acknowledging twice, or touching a resolved alert, is a conflict', () => {
    expect(transitionOutcome('acknowledged', 'acknowledged')).toBe('conflict');
    expect(transitionOutcome('resolved', 'acknowledged')).toBe('conflict');
    expect(transitionOutcome('resolved', 'resolved')).toBe('conflict');
  });

  it('no such alert: not_found', () => {
    expect(transitionOutcome(undefined, 'resolved')).toBe('not_found');
  });
});
