// A uniform 1° grid over ring bounding boxes: which rings' boxes hold a point or meet a small box. A tree over ring
// boxes pays for the few huge rings (Russia, Canada, Antarctica) whose boxes overlap everything; a grid cell lists
// just the rings over it, in ring order. Used for the point and segment queries every fix makes; the nearest-border
// search, with its wide caps, keeps the tree.

const CELL_DEG = 1;
const COLS = 360 / CELL_DEG;
const ROWS = 180 / CELL_DEG;

const col = (x: number) => Math.min(COLS - 1, Math.max(0, Math.floor((x + 180) / CELL_DEG)));
const row = (y: number) => Math.min(ROWS - 1, Math.max(0, Math.floor((y + 90) / CELL_DEG)));

export interface RingGrid {
  /** Calls visit(r) for every ring whose box meets [minX, maxX] × [minY, maxY], each once, in ring order per cell. */
  search(minX: number, minY: number, maxX: number, maxY: number, visit: (r: number) => void): void;
}

/** `box`: minX, minY, maxX, maxY per ring. */
export function buildRingGrid(box: Float64Array, rings: number): RingGrid {
  const counts = new Int32Array(COLS * ROWS + 1);
  const each = (r: number, f: (cell: number) => void) => {
    const b = r * 4;
    for (let j = row(box[b + 1]!); j <= row(box[b + 3]!); j++)
      for (let i = col(box[b]!); i <= col(box[b + 2]!); i++) f(j * COLS + i);
  };
  for (let r = 0; r < rings; r++) each(r, (c) => counts[c + 1]!++);
  for (let c = 0; c < COLS * ROWS; c++) counts[c + 1]! += counts[c]!;
  const offsets = counts.slice();
  const items = new Int32Array(counts[COLS * ROWS]!);
  for (let r = 0; r < rings; r++) each(r, (c) => (items[offsets[c]!++] = r));
  const seen = new Uint32Array(rings);
  let stamp = 0;
  return {
    search(minX, minY, maxX, maxY, visit) {
      stamp = (stamp + 1) >>> 0 || 1;
      const [i0, i1, j0, j1] = [col(minX), col(maxX), row(minY), row(maxY)];
      const single = i0 === i1 && j0 === j1;
      for (let j = j0; j <= j1; j++) {
        for (let i = i0; i <= i1; i++) {
          const cell = j * COLS + i;
          for (let k = counts[cell]!; k < counts[cell + 1]!; k++) {
            const r = items[k]!;
            if (!single) {
              if (seen[r] === stamp) continue;
              seen[r] = stamp;
            }
            const b = r * 4;
            if (box[b]! <= maxX && box[b + 2]! >= minX && box[b + 1]! <= maxY && box[b + 3]! >= minY)
              visit(r);
          }
        }
      }
    },
  };
}
