// Which IP addresses a webhook may reach: public unicast only, unless an operator allows a CIDR
// (WEBHOOK_ALLOW_PRIVATE). Loopback, private, link-local, CGNAT, unique-local, documentation, multicast and
// reserved ranges (RFC 6890 and the IANA special-purpose registries) are refused, and so is an IPv4 address hidden
// in an IPv6 one (IPv4-mapped, IPv4-compatible, NAT64, 6to4). Pure: parsing and comparing bytes, no I/O.

export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

/** `a.b.c.d` or an IPv6 address (with `::`, an embedded dotted quad, no zone) as 4 or 16 bytes; else undefined. */
export function parseIp(s: string): Uint8Array | undefined {
  return s.includes(':') ? parseIpv6(s) : parseIpv4(s);
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

function parseIpv6(input: string): Uint8Array | undefined {
  let s = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  if (s.includes('%')) return undefined; // zones name an interface: link-local by nature
  let tail: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tail = parseIpv4(s.slice(lastColon + 1));
    if (!tail) return undefined;
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = all[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const v = Number.parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128). */
export function parseCidr(s: string): Cidr | undefined {
  const [addr = '', prefixText, extra] = s.trim().split('/');
  if (extra !== undefined) return undefined;
  const bytes = parseIp(addr);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  if (prefixText === undefined) return { bytes, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  return { bytes, prefix: Number(prefixText) };
}

export const isCidr = (s: string) => parseCidr(s) !== undefined;

export function inCidr(ip: Uint8Array, cidr: Cidr): boolean {
  if (ip.length !== cidr.bytes.length) return false;
  for (let bit = 0; bit < cidr.prefix; bit += 8) {
    const bits = Math.min(8, cidr.prefix - bit);
    const mask = (0xff << (8 - bits)) & 0xff;
    if ((ip[bit / 8]! & mask) !== (cidr.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

const ranges = (list: [string, string][]) => list.map(([cidr, what]) => ({ cidr: parseCidr(cidr)!, what }));

const V4_SPECIAL = ranges([
  ['0.0.0.0/8', '"this network"'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT (shared)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignment'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', '6to4 relay anycast'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
]);

const V6_SPECIAL = ranges([
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b:1::/48', 'local-use NAT64'],
  ['100::/64', 'discard-only'],
  ['2001::/23', 'IETF protocol assignment (Teredo, ORCHID, …)'],
  ['2001:db8::/32', 'documentation'],
  ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
]);

/** IPv6 prefixes that carry an IPv4 address, and where its four bytes sit. */
const V6_EMBEDDING: { cidr: Cidr; at: number; what: string }[] = [
  { cidr: parseCidr('::ffff:0:0/96')!, at: 12, what: 'IPv4-mapped' },
  { cidr: parseCidr('::/96')!, at: 12, what: 'IPv4-compatible' },
  { cidr: parseCidr('64:ff9b::/96')!, at: 12, what: 'NAT64' },
  { cidr: parseCidr('2002::/16')!, at: 2, what: '6to4' },
];

/** The IPv4 address inside an IPv6 one, with how it is embedded, if any. */
export function embeddedIpv4(ip: Uint8Array): { v4: Uint8Array; what: string } | undefined {
  if (ip.length !== 16) return undefined;
  for (const e of V6_EMBEDDING) {
    if (inCidr(ip, e.cidr)) return { v4: ip.slice(e.at, e.at + 4), what: e.what };
  }
  return undefined;
}

/** Why `ip` is not a public unicast address (e.g. "loopback", "IPv4-mapped 10.0.0.1: private"), or undefined. */
export function nonPublicReason(ip: Uint8Array): string | undefined {
  const special = ip.length === 4 ? V4_SPECIAL : V6_SPECIAL;
  const hit = special.find((r) => inCidr(ip, r.cidr));
  if (hit) return hit.what;
  const inner = embeddedIpv4(ip);
  const innerReason = inner && nonPublicReason(inner.v4);
  return innerReason && `${inner.what} ${inner.v4.join('.')}, ${innerReason}`;
}

/**
 * Why a webhook may not connect to `address`, or undefined when it may: public addresses may; others only when
 * the address (or the IPv4 address inside it) lies in one of `allow`.
 */
export function addressRefusal(address: string, allow: readonly Cidr[]): string | undefined {
  const ip = parseIp(address);
  if (!ip) return `${address} is not an IP address`;
  const inner = embeddedIpv4(ip)?.v4;
  if (allow.some((c) => inCidr(ip, c) || (inner !== undefined && inCidr(inner, c)))) return undefined;
  const reason = nonPublicReason(ip);
  return reason ? `${address} is ${reason}` : undefined;
}
