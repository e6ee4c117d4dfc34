// MQTT credentials of trackers and sites as the API hands them out: a password issued at registration or rotation
// (shown once, stored only as its scrypt hash), with the ack key firmware pins; the broker told through BrokerAccess
// (src/broker/access.ts) so the old password, or a revoked sender, loses access within seconds.
import type { BrokerAccess } from '../../broker/access.ts';
import { generatePassword, hashPassword } from '../../broker/password.ts';
import { setMqttCredential } from '../../db/mqtt-credentials.ts';
import type { Pool } from '../../db/pool.ts';
import { AppError } from '../../domain/errors.ts';
import type { SenderKind } from '../../domain/messages.ts';
import type { OwnKey } from '../../keyfile.ts';
import type { Logger } from '../../log.ts';
import { z } from '../openapi.ts';
import { ackKeySchema, ackKeyView } from './ingest-key.ts';

/** What the device and site routers need beyond the database. */
export interface SenderDeps {
  ackKey: OwnKey;
  /** The broker to tell; unset: it reads the database itself (a sweep every few seconds). */
  access?: BrokerAccess;
  log: Logger;
}

export const mqttCredentialFields = {
  mqttUsername: z.string().openapi({ description: 'the MQTT user name: the id itself' }),
  mqttPassword: z.string().openapi({
    description:
      'the MQTT password, shown this once (chipwatch keeps only a hash); a new one from POST …/mqtt-credentials ends it',
    example: 'qU3l0mC1x9Yc3n7bq1aF0R0wL2l8e3yN2b6c1x0zT5k',
  }),
  ackKey: ackKeySchema,
};

export const mqttCredentialSchema = z.object(mqttCredentialFields).openapi('MqttCredential');

export type IssuedCredential = {
  mqttUsername: string;
  mqttPassword: string;
  ackKey: ReturnType<typeof ackKeyView>;
};

/**
 * Issues a new MQTT password for the sender, ending any earlier one, and tells the broker. Undefined when the sender
 * does not exist or is revoked. A broker that cannot be told is a 503: the caller may retry the rotation.
 */
export async function issueCredential(
  db: Pool,
  deps: SenderDeps,
  kind: SenderKind,
  id: string,
  by: string,
): Promise<IssuedCredential | undefined> {
  const password = generatePassword();
  const generation = await setMqttCredential(db, kind, id, await hashPassword(password), by);
  if (generation === undefined) return undefined;
  try {
    await deps.access?.grant(kind, id, password);
  } catch (cause) {
    deps.log.error({ err: (cause as Error).message, kind, id }, 'the MQTT broker did not take a credential');
    throw new AppError(
      'UNAVAILABLE',
      `the MQTT broker did not take the new credential of ${kind} ${id}; issue another with POST /v1/${kind}s/${id}/mqtt-credentials`,
      { cause },
    );
  }
  return { mqttUsername: id, mqttPassword: password, ackKey: ackKeyView(deps.ackKey) };
}

/** Tells the broker a sender is revoked. The revocation is already committed: a broker in reach of the database
 * also ends the access by its own sweep, so a failure here is logged, not answered. */
export async function endAccess(deps: SenderDeps, kind: SenderKind, id: string): Promise<void> {
  try {
    await deps.access?.revoke(kind, id);
  } catch (err) {
    deps.log.error({ err: (err as Error).message, kind, id }, 'the MQTT broker was not told of a revocation');
  }
}
