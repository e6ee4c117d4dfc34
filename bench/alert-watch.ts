// Where a compliance officer sees an alert: the SSE stream (GET /v1/alerts/stream with a compliance token) and a
// webhook receiver on loopback. Each records when it first heard of each device's alert (performance.now() of this
// process), so the bench can measure publish → visible.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AlertSeen {
  /** deviceId → performance.now() at the first event about it. */
  firstAt: Map<string, number>;
  /** Events received in all (opened, updated…). */
  events: number;
}

/** The device an alert event is about: `deviceId`, else a `device:<id>` subject. */
function deviceOf(data: string): string | undefined {
  try {
    const a = JSON.parse(data) as { deviceId?: string | null; subject?: string };
    if (a.deviceId) return a.deviceId;
    return a.subject?.startsWith('device:') ? a.subject.slice('device:'.length) : undefined;
  } catch {
    return undefined;
  }
}

function note(seen: AlertSeen, data: string, at: number): void {
  seen.events++;
  const d = deviceOf(data);
  if (d !== undefined && !seen.firstAt.has(d)) seen.firstAt.set(d, at);
}

/** Opens the SSE stream and records every `alert` event until `close()`; resolves once the headers arrived. */
export async function watchSse(httpUrl: string, token: string): Promise<{ seen: AlertSeen; close(): void }> {
  const seen: AlertSeen = { firstAt: new Map(), events: 0 };
  const abort = new AbortController();
  const res = await fetch(`${httpUrl}/v1/alerts/stream`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: abort.signal,
  });
  if (res.status !== 200 || !res.body) throw new Error(`SSE stream: HTTP ${res.status} ${await res.text()}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buf = '';
    let event = '';
    let data: string[] = [];
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const at = performance.now();
        buf += value;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, '');
          buf = buf.slice(nl + 1);
          if (line === '') {
            if (event === 'alert' && data.length) note(seen, data.join('\n'), at);
            event = '';
            data = [];
          } else if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          nl = buf.indexOf('\n');
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return { seen, close: () => abort.abort() };
}

/** A webhook receiver on 127.0.0.1 answering 204 at once (signatures are not checked: the time is what counts). */
export async function startWebhookReceiver(): Promise<{
  url: string;
  seen: AlertSeen;
  stop(): Promise<void>;
}> {
  const seen: AlertSeen = { firstAt: new Map(), events: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      note(seen, Buffer.concat(chunks).toString('utf8'), performance.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    seen,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
