// Server-Sent Events over fetch(): EventSource cannot send an Authorization header, so the dashboard reads
// GET /v1/alerts/stream as a byte stream and parses it here (the WHATWG "event stream" format), resuming with
// Last-Event-ID after a drop, and falling back to polling GET /v1/alerts while the server has no stream (404).

/**
 * An incremental parser: feed it decoded text in chunks of any size (a line or an event may be split anywhere);
 * it calls onEvent({ id, event, data }) per complete event. `retry` fields go to onRetry(ms).
 */
export function createSseParser(onEvent, onRetry = () => {}) {
  let buffer = '';
  let first = true;
  let data = [];
  let event = '';
  let lastId = '';
  const line = (l) => {
    if (l === '') {
      if (data.length > 0) onEvent({ id: lastId, event: event || 'message', data: data.join('\n') });
      data = [];
      event = '';
      return;
    }
    if (l.startsWith(':')) return; // a comment: keep-alive
    const colon = l.indexOf(':');
    const field = colon === -1 ? l : l.slice(0, colon);
    let value = colon === -1 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
  };
  return {
    push(text) {
      buffer += text;
      if (first && buffer.length > 0) {
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
        first = false;
      }
      // A trailing \r may be the first half of \r\n: wait for the next chunk before taking the line.
      const re = /\r\n|\r(?!$)|\n/g;
      let start = 0;
      for (let m = re.exec(buffer); m; m = re.exec(buffer)) {
        line(buffer.slice(start, m.index));
        start = m.index + m[0].length;
      }
      buffer = buffer.slice(start);
    },
    get lastEventId() {
      return lastId;
    },
  };
}

/**
 * Keeps the dashboard's alert list live. Calls onAlert(data) per `alert` event (or onPoll(alerts) per poll) and
 * onMode('stream' | 'polling' | 'reconnecting' | 'forbidden') when the way it gets alerts changes.
 * Returns stop().
 */
export function followAlerts({ token, onAlert, onPoll, onMode, onUnauthorized, pollMs = 4000 }) {
  let stopped = false;
  let controller;
  let timer;
  let lastEventId = '';
  let retryMs = 2000;
  let failures = 0;
  const later = (fn, ms) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(fn, ms);
  };
  const headers = (extra = {}) => ({ Authorization: `Bearer ${token}`, ...extra });

  /** One GET /v1/alerts; false when polling must stop (signed out, or not allowed). */
  async function fetchOnce() {
    try {
      const res = await fetch('/v1/alerts?limit=100', { headers: headers() });
      if (res.status === 401) {
        onUnauthorized();
        return false;
      }
      if (res.status === 403) {
        onMode('forbidden');
        return false;
      }
      if (res.ok) onPoll((await res.json()).items);
    } catch {
      // The network blinked; the next poll tries again.
    }
    return true;
  }

  async function poll(until) {
    if (!(await fetchOnce()) || stopped) return;
    // Every so often look whether the server has grown a stream (an upgrade while the page stays open).
    if (Date.now() >= until) return stream();
    later(() => poll(until), pollMs);
  }

  async function stream() {
    if (stopped) return;
    controller = new AbortController();
    let res;
    try {
      res = await fetch('/v1/alerts/stream', {
        headers: headers({
          Accept: 'text/event-stream',
          ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}),
        }),
        signal: controller.signal,
        cache: 'no-store',
      });
    } catch {
      return reconnect();
    }
    if (res.status === 404 || res.status === 405 || res.status === 501) {
      onMode('polling');
      return poll(Date.now() + 60_000);
    }
    if (res.status === 401) return onUnauthorized();
    if (res.status === 403) return onMode('forbidden');
    if (!res.ok || !res.body) return reconnect();
    failures = 0;
    onMode('stream');
    // Whatever happened while disconnected (or before the first connect) is fetched once; the stream carries the rest.
    if (!(await fetchOnce())) return controller.abort();
    const parser = createSseParser(
      (e) => {
        if (e.event !== 'alert') return;
        lastEventId = e.id;
        try {
          onAlert(JSON.parse(e.data));
        } catch {
          // Not JSON: nothing the dashboard can show; the next poll after a reconnect repairs the list.
        }
      },
      (ms) => {
        retryMs = ms;
      },
    );
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
      }
    } catch {
      // Dropped (network, server restart) or stopped: reconnect below unless stopped.
    }
    // The server's opening `id:` line (the position the stream started from) counts too: a stream that drops
    // before its first alert still resumes from there.
    if (parser.lastEventId) lastEventId = parser.lastEventId;
    reconnect();
  }

  function reconnect() {
    if (stopped) return;
    failures++;
    onMode('reconnecting');
    later(stream, Math.min(retryMs * 2 ** Math.min(failures - 1, 4), 30_000));
  }

  stream();
  return () => {
    stopped = true;
    clearTimeout(timer);
    controller?.abort();
  };
}
