// Who may use the broker, as chipwatch tells it: a tracker or site gets a password at registration (or rotation)
// and loses access when revoked. The embedded aedes broker answers from the database in-process; Mosquitto is
// driven through its dynamic-security plugin (src/broker/dynsec.ts); a cluster broker (EMQX) asks chipwatch over
// HTTP. Every implementation keeps the same promise: after `revoke` resolves the sender is refused on connect and
// disconnected within seconds.
import type { SenderKind } from '../domain/messages.ts';

export interface BrokerAccess {
  /** From now on `id` may connect with `password` (replacing any earlier one) under its least-privilege role. */
  grant(kind: SenderKind, id: string, password: string): Promise<void>;
  /** Ends the sender's access: refused on connect, and any live connection closed. */
  revoke(kind: SenderKind, id: string): Promise<void>;
  close(): Promise<void>;
}
