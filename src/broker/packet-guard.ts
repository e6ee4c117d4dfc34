// Bounds the size of each MQTT packet a client sends before the broker buffers it. An MQTT packet is one header
// byte, a "remaining length" of 1–4 bytes (7 bits each, least significant first) and that many bytes; the guard
// follows those frames across arbitrary chunks and says "stop" at the first header that announces too much, so a
// client cannot make the broker hold a half-sent 200 MiB packet. Pure: bytes in, verdict out.

export class PacketSizeGuard {
  /** Bytes of the current packet's body still to come (after its header). */
  private remaining = 0;
  /** Where we are: 0 = expecting a first header byte, 1 = in the length field, 2 = in a body. */
  private state: 0 | 1 | 2 = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Feeds received bytes; false once a packet announces more than the maximum (or a malformed length). */
  feed(chunk: Uint8Array): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 2) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = 0;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === 0) {
        this.state = 1;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes >= 4) return false;
        continue;
      }
      // Header (1) + length field + body.
      if (1 + this.lengthBytes + this.length > this.maxPacketBytes) return false;
      this.remaining = this.length;
      this.state = this.length === 0 ? 0 : 2;
    }
    return true;
  }
}
