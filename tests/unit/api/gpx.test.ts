// toGpx: a GPX 1.1 document that parses back to the shipment it was made from, with every text XML-escaped.
import { describe, expect, it } from 'vitest';
import { toGpx, xmlEscape } from '../../../src/api/gpx.ts';

interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decodeEntities = (s: string) =>
  s.replace(/&(\w+);/g, (m, e: string) => {
    if (!(e in ENTITIES)) throw new Error(`unknown entity ${m}`);
    return ENTITIES[e]!;
  });

/** A strict little XML reader: elements, attributes, text; throws on a stray `<`, `&` or a mismatched tag. */
function parseXml(xml: string): XmlNode {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const root: XmlNode = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  const token = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < body.length) {
    token.lastIndex = at;
    m = token.exec(body);
    if (!m) throw new Error(`not well-formed at ${at}: ${body.slice(at, at + 40)}`);
    at = token.lastIndex;
    const top = stack.at(-1)!;
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(m[5])) throw new Error(`bare & in ${m[5]}`);
      top.text += decodeEntities(m[5]);
    } else if (m[1]) {
      if (top.name !== m[2]) throw new Error(`</${m[2]}> closes <${top.name}>`);
      stack.pop();
    } else {
      const attrs = Object.fromEntries(
        [...m[3]!.matchAll(/([\w:.-]+)="([^"]*)"/g)].map((a) => [a[1]!, decodeEntities(a[2]!)]),
      );
      const node: XmlNode = { name: m[2]!, attrs, children: [], text: '' };
      top.children.push(node);
      if (!m[4]) stack.push(node);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack.at(-1)!.name}>`);
  return root.children[0]!;
}

const child = (n: XmlNode, name: string) => n.children.find((c) => c.name === name);
const text = (n: XmlNode | undefined, name: string) => (n ? child(n, name)?.text : undefined);

const input = {
  name: 'shp-<1>',
  description: 'AWB 176 & "sons" <urgent>',
  generatedAt: '2026-11-22T10:00:00.000Z',
  route: {
    lengthKm: 9000,
    legs: [
      {
        mode: 'road' as const,
        coordinates: [[121.23, 25.08] as [number, number], [121.5, 25.0] as [number, number]],
      },
      // Unwrapped across the antimeridian: 190°E is 170°W.
      {
        mode: 'air' as const,
        coordinates: [
          [121.5, 25.0] as [number, number],
          [190, 50] as [number, number],
          [-122.4, 37.6] as [number, number],
        ],
      },
    ],
  },
  track: [
    { ts: '2026-11-21T00:00:00.000Z', lat: 25.08, lon: 121.23 },
    { ts: '2026-11-21T01:00:00.000Z', lat: 27.5, lon: 118.0 },
  ],
  alerts: [
    {
      alertId: '7',
      type: 'RESTRICTED_ZONE_ENTERED',
      severity: 'critical',
      status: 'open',
      lat: 27.5,
      lon: 118,
      ts: '2026-11-21T01:00:00.000Z',
    },
  ],
};

describe('toGpx', () => {
  const gpx = parseXml(toGpx(input));

  it('writes a GPX 1.1 root in the GPX namespace with children in the order the schema requires', () => {
    expect(gpx.name).toBe('gpx');
    expect(gpx.attrs).toMatchObject({ version: '1.1', xmlns: 'http://www.topografix.com/GPX/1/1' });
    const order = gpx.children.map((c) => c.name);
    expect(order).toEqual(['metadata', 'wpt', 'rte', 'rte', 'trk']);
  });

  it('escapes every user-supplied text, which reads back unchanged', () => {
    const metadata = child(gpx, 'metadata');
    expect(text(metadata, 'name')).toBe('shp-<1>');
    expect(text(metadata, 'desc')).toBe('AWB 176 & "sons" <urgent>');
    expect(text(metadata, 'time')).toBe('2026-11-22T10:00:00.000Z');
    expect(xmlEscape(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it('puts each planned leg in its own <rte>, longitudes wrapped into [-180, 180)', () => {
    const rtes = gpx.children.filter((c) => c.name === 'rte');
    expect(rtes.map((r) => text(r, 'type'))).toEqual(['road', 'air']);
    const points = rtes[1]!.children
      .filter((c) => c.name === 'rtept')
      .map((p) => [Number(p.attrs.lat), Number(p.attrs.lon)]);
    expect(points).toEqual([
      [25, 121.5],
      [50, -170],
      [37.6, -122.4],
    ]);
  });

  it('writes the actual track as one <trk> of timed points in order', () => {
    const seg = child(child(gpx, 'trk')!, 'trkseg')!;
    expect(seg.children.map((p) => [Number(p.attrs.lat), Number(p.attrs.lon), text(p, 'time')])).toEqual([
      [25.08, 121.23, '2026-11-21T00:00:00.000Z'],
      [27.5, 118, '2026-11-21T01:00:00.000Z'],
    ]);
  });

  it('marks each alert as a waypoint with its type, time and status', () => {
    const wpt = child(gpx, 'wpt')!;
    expect(wpt.attrs).toEqual({ lat: '27.5', lon: '118' });
    expect(text(wpt, 'name')).toBe('RESTRICTED_ZONE_ENTERED');
    expect(text(wpt, 'time')).toBe('2026-11-21T01:00:00.000Z');
    expect(text(wpt, 'desc')).toBe('alert 7: critical, open');
    expect(text(wpt, 'type')).toBe('alert');
  });

  it('stays well-formed with no track, no alerts and no description', () => {
    const empty = parseXml(toGpx({ ...input, description: null, track: [], alerts: [] }));
    expect(empty.children.map((c) => c.name)).toEqual(['metadata', 'rte', 'rte', 'trk']);
    expect(child(child(empty, 'trk')!, 'trkseg')!.children).toEqual([]);
    expect(child(child(empty, 'metadata')!, 'desc')).toBeUndefined();
  });
});

describe('characters XML 1.0 forbids', () => {
  it('are dropped, so user text cannot make the file unreadable; emoji survive', () => {
    expect(xmlEscape('a\u0001b\u0000c\uFFFEd\uD800e<f>')).toBe('abcde&lt;f&gt;');
    expect(xmlEscape('tab\tnewline\n 🚢')).toBe('tab\tnewline\n 🚢');
  });
});
