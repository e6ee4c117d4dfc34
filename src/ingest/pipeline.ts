// The data path of every message, trackers' telemetry and sites' attestations alike, as an ordered list of stages.
// `screen` needs no transaction (envelope, key, signature, payload); `commit` is one transaction per batch:
//
//   screen → revocation → replay window → rows → shipment checks → site checks → bad-message alerts
//          → apply alerts → store → acks
//
// Each stage is a small file in ./stages/ (pure where it can be, its I/O in src/db/). Errors are caught per message:
// a refused message becomes a stored rejection and the batch goes on. The batch processor (./batch-processor.ts)
// retries a failed batch and falls back to one message at a time.

import { applyAlertEvents } from '../alerts/apply.ts';
import type { CheckParams } from '../checks/types.ts';
import type { Config } from '../config.ts';
import { insertMessages, insertRejections, insertTelemetry, storedHashes } from '../db/ingest-store.ts';
import { findKeys, keyRevocations } from '../db/keys.ts';
import { type Pool, type PoolClient, withTransaction } from '../db/pool.ts';
import { lockWindows, saveWindows } from '../db/replay-state.ts';
import type { AlertChange } from '../domain/alerts.ts';
import { Rejection } from '../domain/errors.ts';
import type { Inbound, SenderKind } from '../domain/messages.ts';
import type { GeoRuntime } from '../geo/runtime.ts';
import type { ReplayWindow } from '../verify/replay-window.ts';
import { type KeyRecord, refuse, type Screened, Screener } from '../verify/screen.ts';
import { pairsToLookUp } from './decide.ts';
import { badMessageAlerts } from './stages/bad-messages.ts';
import { decideBatch, type ReplayInput, replayInput } from './stages/replay.ts';
import { applyRevocations, kidsOf } from './stages/revocation.ts';
import { type BatchRows, batchRows, rejectionRow, windowUpdates } from './stages/rows.ts';
import { shipmentChecks } from './stages/shipment-checks.ts';
import { siteChecks } from './stages/site-checks.ts';
import { acksFor, type Verdict, verdictOf } from './stages/verdicts.ts';
import { envelopeOf } from './topics.ts';

export interface BatchOutcome {
  verdicts: Verdict[];
  /** Device → seq to acknowledge (every message up to it is committed or finally rejected). */
  acks: Map<string, number>;
  /** Site → seq to acknowledge on the site's ack topic. */
  siteAcks: Map<string, number>;
  /** Alerts this batch opened, updated or resolved (committed with it). */
  alerts: AlertChange[];
}

export interface PipelineOptions {
  topicPrefix: string;
  maxMessageBytes: number;
  rawCapBytes: number;
  maxClockSkewMs: number;
  /** Global check thresholds (CHECK_PARAMS); a shipment's own params override them. */
  checkParams?: Partial<CheckParams>;
  now?: () => number;
}

export function pipelineOptions(config: Config): PipelineOptions {
  return {
    topicPrefix: config.MQTT_TOPIC_PREFIX,
    maxMessageBytes: config.INGEST_MAX_MESSAGE_BYTES,
    rawCapBytes: config.REJECTION_RAW_CAP_BYTES,
    maxClockSkewMs: config.MAX_CLOCK_SKEW_S * 1000,
    checkParams: config.CHECK_PARAMS,
  };
}

const KINDS = ['device', 'site'] as const;

export class IngestPipeline {
  private readonly screener: Screener;

  constructor(
    private readonly pool: Pool,
    private readonly opts: PipelineOptions,
    /** Public keys by kid; the database by default, a list in unit tests. */
    lookupKeys: (sender: SenderKind, kids: string[]) => Promise<KeyRecord[]> = (sender, kids) =>
      findKeys(this.pool, sender, kids),
    /** The geography the checks need; without it telemetry is stored unchecked (unit tests of screening). */
    private readonly geo?: GeoRuntime,
  ) {
    this.screener = new Screener({
      maxMessageBytes: opts.maxMessageBytes,
      maxClockSkewMs: opts.maxClockSkewMs,
      now: opts.now ?? Date.now,
      lookupKeys,
    });
  }

  /** Every check that needs no transaction: topic, envelope, key, signature (on the thread pool), payload, subject. */
  screen(batch: Inbound[]): Promise<Screened[]> {
    return this.screener.screen(batch.map((msg) => envelopeOf(this.opts.topicPrefix, msg)));
  }

  /** The batch's one transaction, stage by stage. */
  commit(screened: Screened[]): Promise<BatchOutcome> {
    return withTransaction(this.pool, async (c) => {
      const live = applyRevocations(screened, await this.revocations(c, screened));
      const replay = await this.replayWindow(c, live);
      const rows = batchRows(replay.decided, this.opts.rawCapBytes);
      const events = [
        ...(this.geo ? await shipmentChecks(c, this.geo, rows.telemetry, this.opts.checkParams) : []),
        ...(await siteChecks(c, rows.attestations)),
        ...(await badMessageAlerts(c, rows.rejections)),
      ];
      const alerts = await applyAlertEvents(c, events);
      await this.store(c, rows, replay.windows);
      const verdicts = replay.decided.map(verdictOf);
      return {
        verdicts,
        acks: acksFor(verdicts, replay.windows.device, 'device'),
        siteAcks: acksFor(verdicts, replay.windows.site, 'site'),
        alerts,
      };
    });
  }

  private async revocations(c: PoolClient, screened: Screened[]) {
    const [device, site] = await Promise.all(KINDS.map((k) => keyRevocations(c, k, kidsOf(screened, k))));
    return { device: device!, site: site! };
  }

  /** Locks each sender's window, looks up the stored hashes the decision needs, decides every message. */
  private async replayWindow(c: PoolClient, screened: Screened[]) {
    const inputs = {} as Record<SenderKind, ReplayInput>;
    const windows = {} as Record<SenderKind, Map<string, ReplayWindow>>;
    const hashes = {} as Record<SenderKind, Map<string, Buffer>>;
    for (const sender of KINDS) {
      inputs[sender] = replayInput(screened, sender);
      windows[sender] = await lockWindows(c, sender, inputs[sender].senders);
      hashes[sender] = await storedHashes(
        c,
        pairsToLookUp(windows[sender], inputs[sender].candidates),
        sender,
      );
    }
    return decideBatch(screened, inputs, windows, hashes);
  }

  private async store(
    c: PoolClient,
    rows: BatchRows,
    windows: Record<SenderKind, Map<string, ReplayWindow>>,
  ) {
    await insertMessages(c, rows.messages);
    await insertTelemetry(c, rows.telemetry);
    await insertRejections(c, rows.rejections);
    for (const sender of KINDS) await saveWindows(c, sender, windowUpdates(sender, windows[sender], rows));
  }

  /** A message that cannot be stored with its batch (a bug or data the database refuses) is stored as refused. */
  async commitAsInternalError(msg: Inbound, cause: unknown): Promise<BatchOutcome> {
    const env = envelopeOf(this.opts.topicPrefix, msg);
    const r = refuse(
      env,
      new Rejection('INTERNAL_ERROR', `could not be stored: ${(cause as Error)?.message ?? String(cause)}`),
      { senderId: env.senderId },
    );
    await withTransaction(this.pool, (c) => insertRejections(c, [rejectionRow(r, this.opts.rawCapBytes)]));
    return {
      verdicts: [verdictOf({ kind: 'refused', r })],
      acks: new Map(),
      siteAcks: new Map(),
      alerts: [],
    };
  }
}
