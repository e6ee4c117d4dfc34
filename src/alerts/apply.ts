// The one place alerts change, always inside the caller's transaction: a batch's events (opened, updated,
// auto-resolved) and a person's acknowledge or resolve. Each change is audited and gets its outbox row in the same
// transaction, so a notification exists exactly when the change does (src/delivery/outbox.ts).

import {
  acknowledgeAlert,
  auditHead,
  autoResolveAlert,
  insertAudit,
  lockAlertStatus,
  resolveAlert,
  upsertAlert,
} from '../db/alerts.ts';
import { enqueueAlertEvents, type OutboxChange } from '../db/outbox.ts';
import type { PoolClient } from '../db/pool.ts';
import type { AlertChange, SubjectEvent } from '../domain/alerts.ts';
import { auditHash, GENESIS_HASH } from '../evidence/canonical.ts';
import {
  NOTIFY_UPDATES_EVERY_S,
  planAlertSteps,
  type TransitionOutcome,
  transitionOutcome,
} from './rules.ts';

/**
 * Applies a batch's events in order (repeated raises of one alert merged into one statement, src/alerts/rules.ts)
 * and writes their outbox rows: one statement for the batch, unless an alert changes twice in it.
 */
export async function applyAlertEvents(c: PoolClient, events: SubjectEvent[]): Promise<AlertChange[]> {
  const changes: AlertChange[] = [];
  // Each outbox row snapshots the alert as its change left it (an alert opened and resolved in one batch notifies
  // "opened" with status open, then "auto_resolved"): rows wait here until a later step touches their alert.
  let unsent: OutboxChange[] = [];
  const unsentKeys = new Set<string>();
  const send = async () => {
    await enqueueAlertEvents(c, unsent);
    unsent = [];
    unsentKeys.clear();
  };
  const changed = (key: string, change: AlertChange) => {
    changes.push(change);
    unsent.push(change);
    unsentKeys.add(key);
  };
  for (const step of planAlertSteps(events)) {
    if (unsentKeys.has(step.key)) await send();
    if (step.kind === 'raise') {
      const { event: e, ...r } = step.raise;
      const { id, inserted, notify } = await upsertAlert(c, {
        type: e.type,
        severity: r.severity,
        subject: e.subject,
        shipmentId: e.shipmentId,
        deviceId: e.deviceId,
        siteId: e.siteId ?? null,
        firstEvidenceAtMs: r.firstAtMs,
        lastEvidenceAtMs: r.lastAtMs,
        count: r.count,
        details: e.details,
        accumulatesSerials: r.accumulatesSerials,
        notifyEveryS: NOTIFY_UPDATES_EVERY_S[e.type] ?? 0,
      });
      if (inserted) await appendAudit(c, id, 'chipwatch', 'opened', null, e.details);
      const change: AlertChange = { id, type: e.type, action: inserted ? 'opened' : 'updated' };
      if (notify) changed(step.key, change);
      else changes.push(change);
    } else {
      const { event: e, resolution, note } = step.resolve;
      for (const id of await autoResolveAlert(c, e.type, e.subject, resolution)) {
        await appendAudit(c, id, 'chipwatch', 'auto_resolved', note, e.details);
        changed(step.key, { id, type: e.type, action: 'auto_resolved' });
      }
    }
  }
  // Notifications commit with the changes, in this transaction.
  await send();
  return changes;
}

/** Acknowledge (open → acknowledged) or resolve (open/acknowledged → resolved); returns the state it was in. */
export async function transitionAlert(
  c: PoolClient,
  id: number,
  to: 'acknowledged' | 'resolved',
  actor: string,
  note: string | null,
): Promise<TransitionOutcome> {
  const outcome = transitionOutcome(await lockAlertStatus(c, id), to);
  if (outcome !== 'ok') return outcome;
  if (to === 'acknowledged') await acknowledgeAlert(c, id);
  else await resolveAlert(c, id, actor, note);
  await appendAudit(c, id, actor, to, note, {});
  await enqueueAlertEvents(c, [{ id, action: to, actor, note }]);
  return 'ok';
}

/**
 * Appends one row to the alert's hash-chained audit trail. The caller holds the alert row's lock (INSERT, UPDATE or
 * SELECT … FOR UPDATE in the same transaction), so reading the chain head and appending cannot race.
 */
async function appendAudit(
  c: PoolClient,
  alertId: number,
  actor: string,
  action: string,
  note: string | null,
  details: unknown,
): Promise<void> {
  const prevHash = (await auditHead(c, alertId)) ?? GENESIS_HASH;
  const entry = {
    alertId: String(alertId),
    // Millisecond time chosen here, not now() in SQL: the hash must cover exactly what is stored.
    at: new Date().toISOString(),
    actor,
    action,
    note,
    details: details ?? {},
    prevHash,
  };
  await insertAudit(c, { ...entry, hash: auditHash(entry) });
}
