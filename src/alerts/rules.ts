// The alert lifecycle, pure: how one batch's events become steps (repeated raises of one alert merged into one),
// which transitions a person may make, and what severity a type carries. src/alerts/apply.ts carries the steps out.

import {
  ACCUMULATES_SERIALS,
  type AlertStatus,
  type AlertType,
  SEVERITY,
  type Severity,
  type SubjectEvent,
} from '../domain/alerts.ts';

/** The raises of one (type, subject) in a batch, merged: one statement opens or updates the alert. */
export interface MergedRaise {
  /** The event whose details the alert keeps: the latest evidence (with every serial, for ACCUMULATES_SERIALS types). */
  event: SubjectEvent;
  severity: Severity;
  /** Device times of the earliest and the latest evidence merged. */
  firstAtMs: number;
  lastAtMs: number;
  /** Pieces of evidence merged. */
  count: number;
  /** The stored alert keeps every serial it ever named, too (ACCUMULATES_SERIALS). */
  accumulatesSerials: boolean;
}

export interface ResolveStep {
  event: SubjectEvent;
  /** The alert's `resolution`. */
  resolution: string;
  /** The audit note. */
  note: string;
}

/** One step of a batch, in the order it is applied; `key` names the alert it touches. */
export type AlertStep = { key: string } & (
  | { kind: 'raise'; raise: MergedRaise }
  | { kind: 'resolve'; resolve: ResolveStep }
);

/** The one open alert an event is about. */
export const alertKey = (e: { type: AlertType; subject: string }): string => `${e.type}\0${e.subject}`;

export const severityOf = (type: AlertType): Severity => SEVERITY[type];

/**
 * Alert types whose updates notify at most once per this many seconds (opening and resolving always notify): a
 * flood of forged or replayed messages updates its alert's count with every batch, and must not flood the channels
 * and dashboards with it.
 */
export const NOTIFY_UPDATES_EVERY_S: Partial<Record<AlertType, number>> = {
  SIGNATURE_INVALID: 60,
  UNKNOWN_KEY: 60,
  REPLAY: 60,
};

/**
 * A batch's events as steps: raises of one alert merge until a resolve of that alert (the merged raise is applied
 * just before it), and what is left is applied at the end, in the order the alerts were first raised.
 */
export function planAlertSteps(events: readonly SubjectEvent[]): AlertStep[] {
  const steps: AlertStep[] = [];
  const pending = new Map<string, MergedRaise>();
  const flush = (key: string) => {
    const raise = pending.get(key);
    if (!raise) return;
    pending.delete(key);
    steps.push({ key, kind: 'raise', raise });
  };
  for (const e of events) {
    const key = alertKey(e);
    if (e.action === 'raise') {
      const r = pending.get(key);
      pending.set(key, r ? mergeRaise(r, e) : firstRaise(e));
    } else {
      flush(key);
      steps.push({ key, kind: 'resolve', resolve: resolveStep(e) });
    }
  }
  for (const key of [...pending.keys()]) flush(key);
  return steps;
}

function firstRaise(e: SubjectEvent): MergedRaise {
  return {
    event: e,
    severity: severityOf(e.type),
    firstAtMs: e.at,
    lastAtMs: e.at,
    count: 1,
    accumulatesSerials: ACCUMULATES_SERIALS.has(e.type),
  };
}

/** `r` with one more piece of evidence `e`: the latest evidence's details win, serials accumulate where declared. */
export function mergeRaise(r: MergedRaise, e: SubjectEvent): MergedRaise {
  const accumulates = ACCUMULATES_SERIALS.has(e.type);
  let event = r.event;
  let lastAtMs = r.lastAtMs;
  if (e.at >= r.lastAtMs) {
    lastAtMs = e.at;
    event = accumulates ? withSerialsOf(e, r.event) : e;
  } else if (accumulates) {
    event = withSerialsOf(r.event, e);
  }
  return {
    ...r,
    event,
    severity: severityOf(event.type),
    lastAtMs,
    firstAtMs: Math.min(r.firstAtMs, e.at),
    count: r.count + 1,
  };
}

/** `e` with the serials of both events, sorted and once each (for the ACCUMULATES_SERIALS types). */
export function withSerialsOf(e: SubjectEvent, other: SubjectEvent): SubjectEvent {
  const serials = [
    ...new Set([...((e.details.serials as string[]) ?? []), ...((other.details.serials as string[]) ?? [])]),
  ].sort();
  return { ...e, details: { ...e.details, serials } };
}

function resolveStep(e: SubjectEvent): ResolveStep {
  return {
    event: e,
    resolution: String(e.details.reason ?? 'condition cleared'),
    note: String(e.details.reason ?? ''),
  };
}

export type TransitionOutcome = 'ok' | 'not_found' | 'conflict';

/**
 * Whether a person may move an alert in `status` (undefined: no such alert) to `to`: open → acknowledged, and open
 * or acknowledged → resolved. A resolved alert stays resolved.
 */
export function transitionOutcome(
  status: AlertStatus | undefined,
  to: 'acknowledged' | 'resolved',
): TransitionOutcome {
  if (!status) return 'not_found';
  if (status === 'resolved' || (to === 'acknowledged' && status !== 'open')) return 'conflict';
  return 'ok';
}
