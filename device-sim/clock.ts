// The simulated clock: `speedup` simulated seconds per real second, laid out so the run's last simulated instant
// falls just before the real end of the run. Timestamps therefore always lie in the past (chipwatch refuses
// records more than MAX_CLOCK_SKEW_S ahead of its clock) and the newest fixes are current when the run ends.

export interface SimClock {
  readonly speedup: number;
  /** Simulated epoch ms at the start of the run. */
  readonly simStartMs: number;
  /** Simulated epoch ms at the end of the run. */
  readonly simEndMs: number;
  /** Real epoch ms at which the run started. */
  readonly realStartMs: number;
  /** Real epoch ms at which the simulated clock reaches simEndMs. */
  readonly realEndMs: number;
}

/** Simulated time kept behind the real clock at the end: absorbs clock jitter between this host and chipwatch's. */
export const END_GUARD_MS = 30_000;

export function createClock(spanMs: number, speedup: number, realStartMs: number): SimClock {
  if (!(speedup >= 1) || !Number.isFinite(speedup)) {
    throw new Error(`speedup must be a finite number ≥ 1, got ${speedup}`);
  }
  const realEndMs = realStartMs + spanMs / speedup;
  const simEndMs = realEndMs - END_GUARD_MS;
  return { speedup, simStartMs: simEndMs - spanMs, simEndMs, realStartMs, realEndMs };
}

/** Simulated time at real time `realMs`, never past the end. */
export function simNow(clock: SimClock, realMs: number): number {
  const t = clock.simStartMs + (realMs - clock.realStartMs) * clock.speedup;
  return Math.min(clock.simEndMs, Math.max(clock.simStartMs, t));
}

/** How far behind the real clock a simulated instant is, at the real time it is played. */
export function lagMs(clock: SimClock, simMs: number): number {
  const realAt = clock.realStartMs + (simMs - clock.simStartMs) / clock.speedup;
  return realAt - simMs;
}
