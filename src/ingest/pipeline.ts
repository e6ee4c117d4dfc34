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
import { lockWindows, type SenderState, saveWindows } from '../db/replay-state.ts';
import type { AlertChange } from '../domain/alerts.ts';
import { Rejection } from '../domain/errors.ts';
import type { Inbound, SenderKind } from '../domain/messages.ts';
import type { GeoRuntime } from '../geo/runtime.ts';
import type { ReplayWindow } from '../verify/replay-window.ts';
import { type KeyRecord, refuse, type Screened, Screener } from '../verify/screen.ts';
import { pairsToLookUp } from './decide.ts';
import { type Ack, ackOf, advanceFloor, finallyRefused, markRefused } from './stages/acks.ts';
import { badMessageAlerts } from './stages/bad-messages.ts';
import { RawSampler } from './stages/junk.ts';
import { decideBatch, type ReplayInput, replayInput, splitStates } from './stages/replay.ts';
import { applyRevocations, kidsOf } from './stages/revocation.ts';
import { type BatchRows, batchRows, rejectionRow, windowUpdates } from './stages/rows.ts';
import { shipmentChecks } from './stages/shipment-checks.ts';
import { siteChecks } from './stages/site-checks.ts';
import { type Decided, type Verdict, verdictOf } from './stages/verdicts.ts';
import { envelopeOf } from './topics.ts';

export interface BatchOutcome {
  verdicts: Verdict[];
  /** Device → what to acknowledge: every seq up to `seq`, and each in `sack`, is committed or finally refused. */
  acks: Map<string, Ack>;
  /** Site → what to acknowledge on the site's ack topic. */
  siteAcks: Map<string, Ack>;
  /** Alerts this batch opened, updated or resolved (committed with it). */
  alerts: AlertChange[];
}

export interface PipelineOptions {
  topicPrefix: string;
  maxMessageBytes: number;
  rawCapBytes: number;
  /** Raw bytes kept of an unauthenticated refusal, and how many per source and minute keep any (./stages/junk.ts). */
  unauthenticatedRawCapBytes?: number;
  samplesPerSourcePerMin?: number;
  maxClockSkewMs: number;
  /** Global check thresholds (CHECK_PARAMS); a shipment's own params override them. */
  checkParams?: Partial<CheckParams>;
  /** How far above its highest seq one message may move a sender's seq (SEQ_JUMP beyond). */
  maxSeqJump?: number;
  now?: () => number;
}

/** Default of `maxSeqJump`: a million messages, years of reports at any sane interval. */
export const MAX_SEQ_JUMP = 1_000_000;

export function pipelineOptions(config: Config): PipelineOptions {
  return {
    topicPrefix: config.MQTT_TOPIC_PREFIX,
    maxMessageBytes: config.INGEST_MAX_MESSAGE_BYTES,
    rawCapBytes: config.REJECTION_RAW_CAP_BYTES,
    unauthenticatedRawCapBytes: config.REJECTION_UNAUTHENTICATED_RAW_CAP_BYTES,
    samplesPerSourcePerMin: config.REJECTION_SAMPLES_PER_SOURCE_PER_MIN,
    maxClockSkewMs: config.MAX_CLOCK_SKEW_S * 1000,
    checkParams: config.CHECK_PARAMS,
    maxSeqJump: config.MAX_SEQ_JUMP,
  };
}

const KINDS = ['device', 'site'] as const;

interface Replay {
  decided: Decided[];
  /** The windows after the batch, per kind. */
  windows: Record<SenderKind, Map<string, ReplayWindow>>;
  /** The states as locked (before the batch). */
  states: Record<SenderKind, Map<string, SenderState>>;
}

export class IngestPipeline {
  private readonly screener: Screener;
  private readonly sampler: RawSampler;
  private readonly now: () => number;

  constructor(
    private readonly pool: Pool,
    private readonly opts: PipelineOptions,
    /** Public keys by kid; the database by default, a list in unit tests. */
    lookupKeys: (sender: SenderKind, kids: string[]) => Promise<KeyRecord[]> = (sender, kids) =>
      findKeys(this.pool, sender, kids),
    /** The geography the checks need; without it telemetry is stored unchecked (unit tests of screening). */
    private readonly geo?: GeoRuntime,
  ) {
    this.now = opts.now ?? Date.now;
    this.sampler = new RawSampler({
      rawCapBytes: opts.rawCapBytes,
      unauthenticatedRawCapBytes: opts.unauthenticatedRawCapBytes ?? 512,
      samplesPerSourcePerMin: opts.samplesPerSourcePerMin ?? 20,
    });
    this.screener = new Screener({
      maxMessageBytes: opts.maxMessageBytes,
      maxClockSkewMs: opts.maxClockSkewMs,
      now: this.now,
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
      const now = this.now();
      const rows = batchRows(replay.decided, (r) => this.sampler.capFor(r, now));
      const events = [
        ...(this.geo ? await shipmentChecks(c, this.geo, rows.telemetry, this.opts.checkParams) : []),
        ...(await siteChecks(c, rows.attestations)),
        ...(await badMessageAlerts(c, rows.rejections)),
      ];
      const alerts = await applyAlertEvents(c, events);
      const acks = { device: this.acks(replay, 'device'), site: this.acks(replay, 'site') };
      await this.store(c, rows, replay.windows, acks);
      return { verdicts: replay.decided.map(verdictOf), acks: acks.device, siteAcks: acks.site, alerts };
    });
  }

  private async revocations(c: PoolClient, screened: Screened[]) {
    const [device, site] = await Promise.all(KINDS.map((k) => keyRevocations(c, k, kidsOf(screened, k))));
    return { device: device!, site: site! };
  }

  /** Locks each sender's window, looks up the stored hashes the decision needs, decides every message. */
  private async replayWindow(c: PoolClient, screened: Screened[]): Promise<Replay> {
    const inputs = {} as Record<SenderKind, ReplayInput>;
    const states = {} as Record<SenderKind, Map<string, SenderState>>;
    const hashes = {} as Record<SenderKind, Map<string, Buffer>>;
    const split = {} as Record<SenderKind, ReturnType<typeof splitStates>>;
    for (const sender of KINDS) {
      inputs[sender] = replayInput(screened, sender);
      states[sender] = await lockWindows(c, sender, inputs[sender].senders);
      split[sender] = splitStates(states[sender]);
      hashes[sender] = await storedHashes(
        c,
        pairsToLookUp(split[sender].windows, inputs[sender].candidates, split[sender].floors),
        sender,
      );
    }
    return { ...decideBatch(screened, inputs, split, hashes, this.opts.maxSeqJump ?? MAX_SEQ_JUMP), states };
  }

  /**
   * Per sender of the batch: the seqs it refused for good are marked used in its window (a refused seq is used up,
   * like an accepted one: kept, its ack never needs it again), its floor moved over what is now done, and what that
   * lets chipwatch acknowledge.
   */
  private acks(replay: Replay, sender: SenderKind): Map<string, Ack> {
    const refused = finallyRefused(replay.decided, sender);
    const windows = replay.windows[sender];
    const acks = new Map<string, Ack>();
    for (const [id, window] of windows) {
      const floor = replay.states[sender].get(id)!.floor;
      const done = refused.get(id);
      const w = markRefused(window, floor, done, this.opts.maxSeqJump ?? MAX_SEQ_JUMP);
      windows.set(id, w);
      // A SEQ_JUMP is refused for good but never enters the window: it is acknowledged in this ack's sack only.
      acks.set(id, ackOf(advanceFloor(floor, w, done), w, done));
    }
    return acks;
  }

  private async store(
    c: PoolClient,
    rows: BatchRows,
    windows: Record<SenderKind, Map<string, ReplayWindow>>,
    acks: Record<SenderKind, Map<string, Ack>>,
  ) {
    await insertMessages(c, rows.messages);
    await insertTelemetry(c, rows.telemetry);
    await insertRejections(c, rows.rejections);
    for (const sender of KINDS) {
      const floors = new Map([...acks[sender]].map(([id, a]) => [id, a.seq] as const));
      await saveWindows(c, sender, windowUpdates(sender, windows[sender], floors, rows));
    }
  }

  /** A message that cannot be stored with its batch (a bug or data the database refuses) is stored as refused. */
  async commitAsInternalError(msg: Inbound, cause: unknown): Promise<BatchOutcome> {
    const env = envelopeOf(this.opts.topicPrefix, msg);
    const r = refuse(
      env,
      new Rejection('INTERNAL_ERROR', `could not be stored: ${(cause as Error)?.message ?? String(cause)}`),
      { senderId: env.senderId },
    );
    const row = rejectionRow(r, this.sampler.capFor(r, this.now()));
    await withTransaction(this.pool, (c) => insertRejections(c, [row]));
    return {
      verdicts: [verdictOf({ kind: 'refused', r })],
      acks: new Map(),
      siteAcks: new Map(),
      alerts: [],
    };
  }
}
