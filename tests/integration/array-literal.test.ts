// The ingest statements send their numeric columns as array literals built by chipwatch (src/db/array-literal.ts)
// instead of letting pg serialise each element: PostgreSQL must read back exactly what pg itself would have sent,
// for every column type the ingest uses, edge values included.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { numberArrayLiteral } from '../../src/db/array-literal.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';

const EDGES = [
  0,
  -0,
  1,
  -1,
  1.5,
  22.123456789012344,
  -179.99999999999997,
  1e-7,
  5e-324,
  1.7976931348623157e308,
  1e21,
  2 ** 53 - 1,
  -(2 ** 53 - 1),
  1_733_467_200_123,
  0.1 + 0.2,
  null,
];

describe('number array literals', () => {
  let db: Pool;
  beforeAll(() => {
    db = createPool(inject('pgAdminUrl'), 1);
  });
  afterAll(async () => {
    await db?.end();
  });

  for (const type of ['float8', 'real', 'bigint', 'int']) {
    it(`arrive in PostgreSQL as ${type}[] exactly as pg's own serialisation does`, async () => {
      const values = EDGES.filter((v) => {
        if (v === null) return true;
        if (type === 'bigint') return Number.isInteger(v) && Math.abs(v) <= 2 ** 53;
        if (type === 'int') return Number.isInteger(v) && Math.abs(v) < 2 ** 31;
        if (type === 'real') return Math.abs(v) < 3e38 && (v === 0 || Math.abs(v) > 1e-38);
        return true;
      });
      const res = await db.query(
        `SELECT (SELECT array_agg(x::text ORDER BY o) FROM unnest($1::${type}[]) WITH ORDINALITY AS u(x, o)) AS ours,
                (SELECT array_agg(x::text ORDER BY o) FROM unnest($2::${type}[]) WITH ORDINALITY AS u(x, o)) AS pgs`,
        [numberArrayLiteral(values), values],
      );
      expect(res.rows[0].ours).toEqual(res.rows[0].pgs);
      expect(res.rows[0].ours).toHaveLength(values.length);
    });
  }

  it('is an empty array for no values, and refuses what is not a finite number', () => {
    expect(numberArrayLiteral([])).toBe('{}');
    expect(numberArrayLiteral([1.5, null, 3])).toBe('{1.5,NULL,3}');
    expect(() => numberArrayLiteral([1, Number.NaN])).toThrow(/index 1/);
    expect(() => numberArrayLiteral([Number.POSITIVE_INFINITY])).toThrow(TypeError);
  });
});
