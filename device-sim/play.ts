// Plays each instance's planned actions over MQTT on the simulated clock: telemetry, forged, replayed and cloned
// messages from the tracker, attestations from the sites.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimClock } from './clock.ts';
import type { Instance, RunOptions } from './instance.ts';
import { generateDeviceKey } from './keys.ts';
import type { Action } from './plan.ts';
import { buildTelemetry, signCompactJws, type TelemetryRecord } from './signer.ts';

/** A tracker with this many unacked messages waits: a fast simulation must not outrun chipwatch without bound. */
const MAX_PENDING_PER_TRACKER = 500;
/** Actions played back to back before yielding, so acks are read while a burst is due. */
const YIELD_EVERY = 100;

async function waitUntil(clock: SimClock, simMs: number, signal?: AbortSignal): Promise<void> {
  const realAt = clock.realStartMs + (simMs - clock.simStartMs) / clock.speedup;
  const waitMs = realAt - Date.now();
  if (waitMs > 0) await sleep(waitMs, undefined, { signal }).catch(() => {});
}

async function execute(o: RunOptions, inst: Instance, a: Action, simAt: number): Promise<void> {
  const t = inst.tracker;
  const shift = (r: TelemetryRecord) => ({ ...r, ts: Math.round(inst.baseMs + r.ts) });
  switch (a.kind) {
    case 'telemetry': {
      while (t!.pendingCount >= MAX_PENDING_PER_TRACKER) await sleep(20);
      t!.send(a.records.map(shift), simAt);
      inst.sentRecords += a.records.length;
      return;
    }
    case 'forge': {
      // Signed with the attacker's own key but naming the tracker's kid: only the signature can tell.
      const forger = generateDeviceKey(inst.key!.alg);
      for (const r of a.records) {
        const payload = buildTelemetry(inst.deviceId!, t!.nextSeq, [shift(r)], simAt);
        const kid = a.ownKid ? forger.kid : inst.key!.kid;
        await t!.sendRaw('telemetry', signCompactJws(payload, { ...forger, kid }));
      }
      return;
    }
    case 'replay':
    case 'clone': {
      // Only acked messages: a clone racing the genuine message for a seq would make the genuine one the replay.
      await t!.waitAllAcked(60_000);
      const captured = t!.recent.slice(-(a.kind === 'replay' ? a.count : a.records.length));
      for (const [k, m] of captured.entries()) {
        const jws =
          a.kind === 'replay'
            ? m.jws
            : signCompactJws(buildTelemetry(inst.deviceId!, m.seq, [shift(a.records[k]!)], simAt), inst.key!);
        await t!.sendRaw('telemetry', jws);
      }
      return;
    }
    case 'attest': {
      const site = inst.sites.get(a.site)!;
      // Sites attest on the real clock, not the simulated one: chipwatch times site silence against its own clock,
      // and a simulated clock running hours behind would look silent from the first attestation. Real time is
      // always later than simulated time, so an attestation still follows the arrival it was scheduled after.
      const extra = Array.from(
        { length: a.extraChips },
        (_, k) => `${site.id}-X-${String(k + 1).padStart(4, '0')}`,
      );
      site.tracker.sendAttestation(
        {
          location: a.location,
          chips: [...(a.shipmentChips ? inst.chips : []), ...extra],
          landmarks: a.landmarks.map((l) => ({ landmarkId: `${o.idPrefix}-${l.id}`, rttMs: l.rttMs })),
        },
        Date.now(),
      );
      return;
    }
  }
}
export async function play(o: RunOptions, clock: SimClock, inst: Instance): Promise<void> {
  let n = 0;
  for (const a of inst.plan.actions) {
    if (o.signal?.aborted) return;
    // The wire protocol's times are whole milliseconds.
    const simAt = Math.round(inst.baseMs + a.atMs);
    await waitUntil(clock, simAt, o.signal);
    if (o.signal?.aborted) return;
    await execute(o, inst, a, simAt);
    if (++n % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
  }
}
