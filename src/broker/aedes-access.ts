// BrokerAccess for the embedded aedes broker. The credential itself lives in the database (the API stored its hash
// before calling grant), which the broker reads at every connect; so grant and revoke only close the sender's live
// connections now — those made with the old password, or all of them. A broker in another process learns the same
// from its sweep within MQTT_ACCESS_SWEEP_S.
import type { SenderKind } from '../domain/messages.ts';
import type { BrokerAccess } from './access.ts';
import type { BrokerGate } from './aedes-gate.ts';

export function aedesAccess(gate: BrokerGate): BrokerAccess {
  return {
    // The new password reaches the sender only in the API's answer, after this: every live connection used an old one.
    grant: async (kind: SenderKind, id: string, _password: string) => {
      gate.end(kind, id);
    },
    revoke: async (kind: SenderKind, id: string) => {
      gate.end(kind, id);
    },
    close: async () => {},
  };
}
