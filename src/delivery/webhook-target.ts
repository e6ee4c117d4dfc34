// Where a webhook may connect: its URL's host resolved (DNS), every address checked against the public-only rule
// (src/domain/addresses.ts, WEBHOOK_ALLOW_PRIVATE). Checked when a channel is created or changed, and again before
// every delivery, which then connects to the address checked here (DNS may answer differently by then).
import { lookup } from 'node:dns/promises';
import { addressRefusal, type Cidr, parseCidr, parseIp } from '../domain/addresses.ts';

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/** How long a DNS lookup may take, ms. */
const LOOKUP_TIMEOUT_MS = 5000;

export interface WebhookTarget {
  url: URL;
  /** The checked address to connect to. */
  address: string;
  family: 4 | 6;
}

/**
 * Why a target is refused: `refused` (a non-public address, not http) will not change by retrying; `unresolved`
 * (no DNS answer, a name not registered yet) may.
 */
export class WebhookTargetError extends Error {
  constructor(
    readonly kind: 'refused' | 'unresolved',
    message: string,
  ) {
    super(message);
    this.name = 'WebhookTargetError';
  }
}

export function parseAllowList(cidrs: readonly string[]): Cidr[] {
  return cidrs.map((c) => {
    const cidr = parseCidr(c);
    if (!cidr) throw new Error(`WEBHOOK_ALLOW_PRIVATE: ${c} is not a CIDR`);
    return cidr;
  });
}

/**
 * The address a webhook URL may be sent to. Every address its host resolves to must be allowed (one private
 * answer among public ones refuses the URL: a rebinding name hands out both); the first is used.
 */
export async function resolveWebhookTarget(
  rawUrl: string,
  allow: readonly Cidr[],
  resolve: Resolver = systemResolver,
): Promise<WebhookTarget> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new WebhookTargetError('refused', `${rawUrl} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new WebhookTargetError('refused', `${url.protocol} is not http: or https:`);
  // The URL parser has already normalised 0x7f.1 and 2130706433 to 127.0.0.1, and put IPv6 in brackets.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let answers: { address: string; family: number }[];
  if (parseIp(host)) {
    answers = [{ address: host, family: host.includes(':') ? 6 : 4 }];
  } else {
    answers = await withTimeout(resolve(host), LOOKUP_TIMEOUT_MS).catch((err: NodeJS.ErrnoException) => {
      throw new WebhookTargetError('unresolved', `${host} does not resolve (${err.code ?? err.message})`);
    });
    if (answers.length === 0) throw new WebhookTargetError('unresolved', `${host} does not resolve`);
  }
  for (const a of answers) {
    const why = addressRefusal(a.address, allow);
    if (why) {
      const via = a.address === host ? '' : `${host} resolves to `;
      throw new WebhookTargetError(
        'refused',
        `${via}${why}: webhooks reach public addresses only, unless WEBHOOK_ALLOW_PRIVATE lists it`,
      );
    }
  }
  const first = answers[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('ETIMEOUT'), { code: 'ETIMEOUT' })), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
