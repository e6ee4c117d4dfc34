// A message as it arrives from the broker, and who may send one: the two sender kinds of wire protocol v1.

export interface Inbound {
  topic: string;
  payload: Buffer;
  /** Epoch ms when chipwatch took the message from the broker. */
  receivedAt: number;
}

/** Trackers publish telemetry, sites publish attestations; both share every rule of the path. */
export type SenderKind = 'device' | 'site';
