// Rounding of the figures alert details carry: readable, and stable across runs.
export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
