// The API from the browser: every call carries the signed-in user's token; errors keep the API's code and message.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  /** A 404 for the route itself (the server predates it), not for the thing asked about. */
  get routeMissing() {
    return this.status === 404 && /^no route /.test(this.message);
  }
}

export function createApi(getToken, onUnauthorized) {
  async function call(method, path, body) {
    const headers = { Authorization: `Bearer ${getToken()}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'NETWORK', `chipwatch did not answer (${e.message}); check the connection`);
    }
    if (res.status === 401) onUnauthorized();
    return res;
  }
  async function failure(res) {
    let code = `HTTP_${res.status}`;
    let message = res.statusText || `HTTP ${res.status}`;
    try {
      const b = await res.json();
      code = b.error?.code ?? code;
      message = b.error?.message ?? message;
    } catch {}
    return new ApiError(res.status, code, message);
  }
  async function json(method, path, body) {
    const res = await call(method, path, body);
    if (!res.ok) throw await failure(res);
    return res.json();
  }
  return {
    get: (path) => json('GET', path),
    /** Every page of a list (following nextCursor) up to `max` items: `{items, truncated}`. */
    async all(path, max = 5000) {
      const items = [];
      let cursor = null;
      do {
        const sep = path.includes('?') ? '&' : '?';
        const page = await json('GET', cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && items.length < max);
      return { items, truncated: Boolean(cursor) };
    },
    post: (path, body) => json('POST', path, body),
    /** Fetches with the token and hands the body to the browser as a file download; returns its size in bytes. */
    async download(path, fallbackName) {
      const res = await call('GET', path);
      if (!res.ok) throw await failure(res);
      const blob = await res.blob();
      const disposition = res.headers.get('Content-Disposition') ?? '';
      const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      // The click has started the download; the URL is not needed once the browser has the blob.
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return { name, bytes: blob.size };
    },
  };
}
