// The transport of Mosquitto's dynamic-security API: an admin MQTT session that publishes commands on
// `$CONTROL/dynamic-security/v1` and matches each answer on `…/v1/response` by its correlationData (every admin
// session subscribed there sees every answer). A command unanswered in time fails naming itself.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';

const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;

export type DynsecCommand = { command: string } & Record<string, unknown>;
export interface DynsecResponse {
  command: string;
  error?: string;
  data?: unknown;
  correlationData?: string;
}

/** A dynsec command that failed or went unanswered; `command` names it and its subject. */
export class DynsecError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(`Mosquitto dynamic-security ${command}: ${message}`);
  }
}

export interface DynsecLogin {
  /** The broker, as chipwatch reaches it (mqtt:// or mqtts://). */
  url: string;
  username: string;
  password: string;
  /** How long connecting, or one command, may take, ms. */
  timeoutMs?: number;
}

function label(c: DynsecCommand): string {
  const subject = c.username ?? c.rolename;
  return typeof subject === 'string' ? `${c.command}(${subject})` : c.command;
}

/** Waits for a client's first CONNACK: true when accepted, false when refused or closed. */
export function accepted(client: MqttClient): Promise<{ ok: boolean; reason?: string }> {
  return new Promise((resolve) => {
    client.once('connect', () => resolve({ ok: true }));
    client.once('error', (err) => resolve({ ok: false, reason: err.message }));
    client.once('close', () => resolve({ ok: false, reason: 'connection closed' }));
  });
}

export class DynsecClient {
  private readonly pending = new Map<string, (r: DynsecResponse) => void>();
  private readonly nonce = randomBytes(6).toString('hex');
  private seq = 0;

  private constructor(
    private readonly client: MqttClient,
    private readonly timeoutMs: number,
  ) {
    client.on('message', (topic, payload) => {
      if (topic === RESPONSE_TOPIC) this.onResponse(payload);
    });
  }

  /** Logs in as the plugin's admin; a refused login fails naming the user and the broker. */
  static async connect(o: DynsecLogin): Promise<DynsecClient> {
    const timeoutMs = o.timeoutMs ?? 10_000;
    const client = mqtt.connect(o.url, {
      username: o.username,
      password: o.password,
      clientId: `chipwatch-dynsec-${randomBytes(4).toString('hex')}`,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: timeoutMs,
      resubscribe: true,
    });
    const first = await accepted(client);
    if (!first.ok) {
      client.end(true);
      throw new DynsecError('connect', `${o.username} at ${o.url} refused: ${first.reason}`);
    }
    client.on('error', () => {}); // later: mqtt.js reconnects; a command sent meanwhile times out naming itself
    await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
    return new DynsecClient(client, timeoutMs);
  }

  private onResponse(payload: Buffer): void {
    let responses: DynsecResponse[];
    try {
      responses = (JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] }).responses ?? [];
    } catch {
      return;
    }
    for (const r of responses) {
      const settle = r.correlationData === undefined ? undefined : this.pending.get(r.correlationData);
      if (settle) settle(r);
    }
  }

  /**
   * Sends the commands in one message (the plugin runs them in order) and resolves with their answers. An error
   * answer rejects, unless `tolerate` lists it for that command ("Client not found" on a delete that may have
   * nothing to delete).
   */
  async run(commands: DynsecCommand[], tolerate: Record<string, string[]> = {}): Promise<DynsecResponse[]> {
    const ids = commands.map(() => `${this.nonce}-${++this.seq}`);
    const answers = ids.map(
      (id, i) =>
        new Promise<DynsecResponse>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.pending.delete(id);
            reject(new DynsecError(label(commands[i]!), `no answer within ${this.timeoutMs} ms`));
          }, this.timeoutMs);
          this.pending.set(id, (r) => {
            clearTimeout(timer);
            this.pending.delete(id);
            resolve(r);
          });
        }),
    );
    const body = { commands: commands.map((c, i) => ({ ...c, correlationData: ids[i] })) };
    this.client.publish(CONTROL_TOPIC, JSON.stringify(body), { qos: 1 }, () => {});
    const responses = await Promise.all(answers);
    responses.forEach((r, i) => {
      const c = commands[i]!;
      if (r.error && !(tolerate[c.command] ?? []).includes(r.error)) throw new DynsecError(label(c), r.error);
    });
    return responses;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
