// How the simulator connects to the broker: as a real tracker or site does (user name and client id = its id, the
// MQTT password from its registration answer), or, for tools acting as chipwatch, as chipwatch's service user.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** mqtt.js options of a tracker or site: the broker admits it only under its own id. */
export function senderAuth(
  id: string,
  mqttPassword: string | undefined,
): { username?: string; password?: string; clientId?: string } {
  return mqttPassword === undefined ? {} : { username: id, password: mqttPassword, clientId: id };
}

/**
 * chipwatch's own MQTT credentials for a tool acting as chipwatch: MQTT_USERNAME (default chipwatch) with
 * MQTT_PASSWORD, MQTT_PASSWORD_FILE, or the file chipwatch generated in its DATA_DIR; undefined when none exists.
 */
export function serviceAuth(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): { username: string; password: string } | undefined {
  const username = env.MQTT_USERNAME ?? 'chipwatch';
  if (env.MQTT_PASSWORD) return { username, password: env.MQTT_PASSWORD };
  const file = env.MQTT_PASSWORD_FILE ?? join(dataDir, 'mqtt-service-password');
  if (!existsSync(file)) return undefined;
  return { username, password: readFileSync(file, 'utf8').trim() };
}
