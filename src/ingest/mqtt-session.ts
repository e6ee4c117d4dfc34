// The MQTT edge of ingest, on mqtt-packet: a persistent session (clean session off, fixed client id) whose PUBACKs
// chipwatch sends itself, only after the message's batch is committed. A message taken but not yet committed when
// the connection or the process dies is therefore redelivered by the broker. pause() stops reading the socket, so
// TCP pushes back on the broker while the batcher is full.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import mqttPacket, { type Packet } from 'mqtt-packet';
import type { Logger } from '../log.ts';

export interface IncomingPublish {
  topic: string;
  payload: Buffer;
  /** Sends the PUBACK if the connection that delivered the message is still up; else the broker redelivers. */
  ack(): void;
}

export interface MqttSessionOptions {
  url: string;
  clientId: string;
  subscriptions: string[];
  keepaliveS?: number;
  log: Logger;
  onPublish(msg: IncomingPublish): void;
}

export class MqttSession extends EventEmitter {
  private socket: net.Socket | undefined;
  private epoch = 0;
  private paused = false;
  private closing = false;
  private connectedFlag = false;
  private nextId = 1;
  private attempt = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private readonly keepaliveS: number;
  /** PUBACK message ids waiting for one write, while a batch's writes are collected (batchWrites). */
  private pubacks: number[] | undefined;

  constructor(private readonly o: MqttSessionOptions) {
    super();
    this.keepaliveS = o.keepaliveS ?? 30;
  }

  get connected(): boolean {
    return this.connectedFlag;
  }

  /** Connects and keeps reconnecting until close(); resolves at the first successful CONNACK. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.once('connected', () => resolve());
      this.connect();
    });
  }

  pause(): void {
    this.paused = true;
    this.socket?.pause();
  }

  resume(): void {
    this.paused = false;
    this.lastHeard = Date.now();
    this.socket?.resume();
  }

  /**
   * Runs `fn` with the socket corked, so the PUBACKs and acks of one batch leave in one write; the batch's PUBACKs
   * (4 bytes each) are packed into one buffer, in order with everything else written.
   */
  batchWrites(fn: () => void): void {
    const s = this.socket;
    s?.cork();
    this.pubacks = [];
    try {
      fn();
    } finally {
      this.flushPubacks();
      this.pubacks = undefined;
      if (s) process.nextTick(() => s.uncork());
    }
  }

  private flushPubacks(): void {
    const ids = this.pubacks;
    if (!ids || ids.length === 0) return;
    const buf = Buffer.allocUnsafe(ids.length * 4);
    for (let i = 0; i < ids.length; i++) {
      buf[i * 4] = 0x40; // PUBACK, remaining length 2
      buf[i * 4 + 1] = 2;
      buf.writeUInt16BE(ids[i]!, i * 4 + 2);
    }
    ids.length = 0;
    this.socket?.write(buf);
  }

  /** Publishes at QoS 1 when connected. Acks to devices are best effort: a lost one only causes a resend. */
  publish(topic: string, payload: string | Buffer): boolean {
    if (!this.connectedFlag || !this.socket) return false;
    const messageId = this.nextMessageId();
    this.write({ cmd: 'publish', topic, payload, qos: 1, messageId, retain: false, dup: false });
    return true;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.pingTimer);
    const s = this.socket;
    if (!s) return;
    if (this.connectedFlag) this.write({ cmd: 'disconnect' });
    await new Promise<void>((r) => {
      s.once('close', () => r());
      s.end();
      setTimeout(() => {
        s.destroy();
        r();
      }, 1000).unref();
    });
  }

  private nextMessageId(): number {
    const id = this.nextId;
    this.nextId = id >= 65535 ? 1 : id + 1;
    return id;
  }

  private write(packet: Packet): void {
    this.flushPubacks();
    this.socket?.write(mqttPacket.generate(packet));
  }

  private connect(): void {
    if (this.closing) return;
    const url = new URL(this.o.url);
    const secure = url.protocol === 'mqtts:' || url.protocol === 'ssl:';
    const port = Number(url.port || (secure ? 8883 : 1883));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const socket = secure ? tls.connect({ host, port, servername: host }) : net.connect({ host, port });
    const epoch = ++this.epoch;
    this.socket = socket;
    socket.setNoDelay(true);
    if (this.paused) socket.pause();
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: Packet) => this.onPacket(p, epoch));
    parser.on('error', (err: Error) => {
      this.o.log.warn({ err: err.message }, 'MQTT protocol error; reconnecting');
      socket.destroy();
    });
    socket.on('connect', () => {
      this.lastHeard = Date.now();
      this.write({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: false,
        clientId: this.o.clientId,
        keepalive: this.keepaliveS,
        ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
        ...(url.password ? { password: Buffer.from(decodeURIComponent(url.password)) } : {}),
      });
    });
    socket.on('data', (buf: Buffer) => {
      this.lastHeard = Date.now();
      parser.parse(buf);
    });
    socket.on('error', (err) => this.o.log.debug({ err: err.message }, 'MQTT socket error'));
    socket.on('close', () => {
      if (epoch !== this.epoch) return;
      const wasConnected = this.connectedFlag;
      this.connectedFlag = false;
      clearInterval(this.pingTimer);
      if (wasConnected) this.emit('disconnected');
      if (this.closing) return;
      const delay = Math.min(5000, 100 * 2 ** this.attempt++);
      if (this.attempt === 1 || this.attempt % 20 === 0) {
        this.o.log.warn({ url: this.o.url, retryInMs: delay }, 'MQTT broker unreachable; reconnecting');
      }
      setTimeout(() => this.connect(), delay).unref();
    });
  }

  private onPacket(p: Packet, epoch: number): void {
    switch (p.cmd) {
      case 'connack': {
        if (p.returnCode !== 0) {
          this.o.log.error({ returnCode: p.returnCode }, 'MQTT broker refused the connection');
          this.socket?.destroy();
          return;
        }
        this.attempt = 0;
        this.connectedFlag = true;
        this.write({
          cmd: 'subscribe',
          messageId: this.nextMessageId(),
          subscriptions: this.o.subscriptions.map((topic) => ({ topic, qos: 1 as const })),
        });
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(
          () => {
            // While paused chipwatch is not reading: the broker's silence is ours, not a dead connection.
            if (!this.paused && Date.now() - this.lastHeard > this.keepaliveS * 1500) this.socket?.destroy();
            else this.write({ cmd: 'pingreq' });
          },
          (this.keepaliveS * 1000) / 2,
        );
        this.pingTimer.unref();
        this.emit('connected', p.sessionPresent);
        return;
      }
      case 'publish': {
        const { topic, payload, qos, messageId } = p;
        const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
        let acked = false;
        const ack = () => {
          if (acked || qos === 0 || messageId === undefined || epoch !== this.epoch || !this.connectedFlag)
            return;
          acked = true;
          if (qos === 1 && this.pubacks) this.pubacks.push(messageId);
          else this.write(qos === 2 ? { cmd: 'pubrec', messageId } : { cmd: 'puback', messageId });
        };
        this.o.onPublish({ topic, payload: body, ack });
        return;
      }
      case 'pubrel':
        this.write({ cmd: 'pubcomp', messageId: p.messageId });
        return;
      case 'suback': {
        const refused = p.granted.filter(
          (g) => (typeof g === 'number' ? g : ((g as { qos?: number }).qos ?? 0)) >= 0x80,
        );
        if (refused.length > 0)
          this.o.log.error({ subscriptions: this.o.subscriptions }, 'MQTT broker refused a subscription');
        return;
      }
      default:
        return;
    }
  }
}
