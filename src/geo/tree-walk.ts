// Queries over a Flatbush tree that allocate nothing: Flatbush's own search and collides make a queue (and a result
// array) per call, and the checks make several such queries per fix (route location, ray casts, segment and box
// tests). The same traversal as Flatbush.collides, over the tree's packed arrays, with one shared stack that nested
// queries (a visitor querying another tree) stack on top of.
import type Flatbush from 'flatbush';

let stack = new Int32Array(1024);
let top = 0;

function push(index: number, level: number): void {
  if (top + 2 > stack.length) {
    const bigger = new Int32Array(stack.length * 2);
    bigger.set(stack);
    stack = bigger;
  }
  stack[top++] = index;
  stack[top++] = level;
}

/**
 * Calls hit(i) for the items whose boxes meet [minX, maxX] × [minY, maxY] (touching included) until one returns
 * true; whether one did. The answer of tree.collides(minX, minY, maxX, maxY, hit), visiting in the same order; a
 * visitor that always returns false visits every item tree.search would (in another order).
 */
export function treeSome(
  tree: Flatbush,
  minX: number,
  minY: number,
  maxX: number,
  maxY: number,
  hit: (i: number) => boolean,
): boolean {
  const boxes = tree._boxes;
  const indices = tree._indices;
  const levelBounds = tree._levelBounds;
  const nodeSize = tree.nodeSize;
  const numItems4 = tree.numItems * 4;
  const base = top;
  let nodeIndex = boxes.length - 4;
  let level = levelBounds.length - 1;
  for (;;) {
    const end = Math.min(nodeIndex + nodeSize * 4, levelBounds[level]!);
    const isNode = nodeIndex >= numItems4;
    for (let pos = nodeIndex; pos < end; pos += 4) {
      if (maxX < boxes[pos]! || maxY < boxes[pos + 1]! || minX > boxes[pos + 2]! || minY > boxes[pos + 3]!)
        continue;
      const index = indices[pos >> 2]! | 0;
      if (isNode) push(index, level - 1);
      else if (hit(index)) {
        top = base;
        return true;
      }
    }
    if (top === base) return false;
    level = stack[--top]!;
    nodeIndex = stack[--top]!;
  }
}
