// Routes through app.request() over a stand-in database: status and body of the answers that need no stored rows
// (404s, validation, roles), and the answers built from the rows the database gives.
import { describe, expect, it } from 'vitest';
import { testApp } from './app.ts';

describe('GET /v1/sites/{id}', () => {
  it('answers 404 NOT_FOUND naming the site when it is not registered', async () => {
    const { call } = testApp();
    const res = await call('GET', '/v1/sites/dc-nowhere', { role: 'compliance' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: 'no site dc-nowhere' } });
  });

  it('answers 403 FORBIDDEN to logistics, before any query', async () => {
    const { call, queries } = testApp();
    const res = await call('GET', '/v1/sites/dc-ams-01', { role: 'logistics' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
    expect(queries).toEqual([]);
  });
});

describe('POST /v1/landmarks', () => {
  it('answers 201 with the landmark and its Location', async () => {
    const { call, queries } = testApp({ answer: () => ({ rows: [], rowCount: 1 }) });
    const res = await call('POST', '/v1/landmarks', {
      body: { id: 'lm-fra', name: 'Frankfurt', lat: 50.1, lon: 8.7 },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/v1/landmarks/lm-fra');
    expect(res.body).toEqual({ id: 'lm-fra', name: 'Frankfurt', lat: 50.1, lon: 8.7 });
    expect(queries).toHaveLength(1);
    expect(queries[0]!.values.slice(0, 4)).toEqual(['lm-fra', 'Frankfurt', 50.1, 8.7]);
  });

  it('answers 409 CONFLICT when the id is taken', async () => {
    const { call } = testApp({ answer: () => ({ rows: [], rowCount: 0 }) });
    const res = await call('POST', '/v1/landmarks', { body: { id: 'lm-fra', lat: 50.1, lon: 8.7 } });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: { code: 'CONFLICT', message: 'landmark lm-fra is already registered' },
    });
  });

  it('answers 422 VALIDATION_FAILED naming the field for a latitude beyond 90', async () => {
    const { call, queries } = testApp();
    const res = await call('POST', '/v1/landmarks', { body: { id: 'lm-x', lat: 91, lon: 0 } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toMatch(/^lat: /);
    expect(queries).toEqual([]);
  });

  it('answers 422 for an id outside the id grammar', async () => {
    const { call } = testApp();
    const res = await call('POST', '/v1/landmarks', { body: { id: 'lm fra', lat: 0, lon: 0 } });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain('id: ids are 1–128 of');
  });
});

describe('GET /v1/landmarks', () => {
  it('lists what the database holds as one page', async () => {
    const createdAt = new Date('2026-11-21T10:00:00Z');
    const { call } = testApp({
      answer: () => ({ rows: [{ id: 'lm-fra', name: null, lat: 50.1, lon: 8.7, created_at: createdAt }] }),
    });
    const res = await call('GET', '/v1/landmarks', { role: 'compliance' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [{ id: 'lm-fra', name: null, lat: 50.1, lon: 8.7, createdAt: '2026-11-21T10:00:00.000Z' }],
      nextCursor: null,
    });
  });
});

describe('GET /v1/chips/{serial}', () => {
  it('answers 404 when no shipment carried and no site attested the chip', async () => {
    const { call } = testApp();
    const res = await call('GET', '/v1/chips/GPU-0001', { role: 'compliance' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: { code: 'NOT_FOUND', message: 'no shipment carried and no site attested chip GPU-0001' },
    });
  });

  it('answers the custody chain with the attestations in time order', async () => {
    const { call } = testApp({
      answer: (sql) =>
        sql.includes('min(first_seen)') // the span attestations are read in
          ? {
              rows: [
                { from_ms: Date.parse('2026-11-21T00:00:00Z'), to_ms: Date.parse('2026-11-22T00:00:00Z') },
              ],
            }
          : sql.includes('FROM attestations')
            ? {
                rows: [
                  // newest first, as the query orders them
                  {
                    site_id: 'dc-b',
                    ts: new Date('2026-11-22T00:00:00Z'),
                    seq: 2,
                    lat: 1,
                    lon: 2,
                    flags: [],
                  },
                  {
                    site_id: 'dc-a',
                    ts: new Date('2026-11-21T00:00:00Z'),
                    seq: 1,
                    lat: 3,
                    lon: 4,
                    flags: ['X'],
                  },
                ],
              }
            : { rows: [] },
    });
    const res = await call('GET', '/v1/chips/GPU-0001', { role: 'compliance' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      serial: 'GPU-0001',
      shipments: [],
      attestations: [
        {
          siteId: 'dc-a',
          at: '2026-11-21T00:00:00.000Z',
          seq: 1,
          location: { lat: 3, lon: 4 },
          flags: ['X'],
        },
        { siteId: 'dc-b', at: '2026-11-22T00:00:00.000Z', seq: 2, location: { lat: 1, lon: 2 }, flags: [] },
      ],
      attestationsTruncated: false,
      sites: [],
      alerts: [],
    });
  });
});

describe('/v1/channels', () => {
  it('answers 403 to compliance: channels are admin only', async () => {
    const { call } = testApp();
    expect((await call('GET', '/v1/channels', { role: 'compliance' })).status).toBe(403);
  });

  it('answers 401 UNAUTHENTICATED without a token', async () => {
    const { call } = testApp();
    const res = await call('GET', '/v1/channels', { role: null });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
  });
});

describe('GET /v1/deliveries/{id}', () => {
  it('answers 404 for an id that is not a UUID, before any query', async () => {
    const { call, queries } = testApp();
    const res = await call('GET', '/v1/deliveries/not-a-uuid');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect(queries).toEqual([]);
  });
});
