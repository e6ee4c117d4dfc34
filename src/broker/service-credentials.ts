// chipwatch's own MQTT credentials (ingest, alert dispatcher, tools acting as chipwatch): MQTT_PASSWORD, else the
// file MQTT_PASSWORD_FILE, else DATA_DIR/mqtt-service-password, generated there once (mode 0600) for the embedded
// broker, so every process sharing the data folder connects as the same service user.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatePassword } from './password.ts';

export const SERVICE_PASSWORD_FILE = 'mqtt-service-password';

export interface ServiceCredentials {
  username: string;
  password: string;
}

/**
 * The service user's credentials. With an embedded broker the DATA_DIR file is created when missing; with an
 * external broker it is only read when present (undefined: connect with what MQTT_URL carries, if anything).
 */
export function serviceCredentials(
  o: { username: string; password?: string; passwordFile?: string; dataDir: string },
  embedded: boolean,
): ServiceCredentials | undefined {
  if (o.password) return { username: o.username, password: o.password };
  if (o.passwordFile)
    return { username: o.username, password: readSecret(o.passwordFile, 'MQTT_PASSWORD_FILE') };
  const path = join(o.dataDir, SERVICE_PASSWORD_FILE);
  if (!existsSync(path)) {
    if (!embedded) return undefined;
    mkdirSync(o.dataDir, { recursive: true });
    try {
      writeFileSync(path, `${generatePassword()}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
    } catch (e) {
      // Another process created it first: use theirs.
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
  }
  return { username: o.username, password: readSecret(path, 'the MQTT service password') };
}

function readSecret(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (cause) {
    throw new Error(`cannot read ${what} at ${path}: ${(cause as Error).message}`, { cause });
  }
  if (!text) throw new Error(`${what} at ${path} is empty`);
  return text;
}

/** The broker URL with user name and password in it (mqtt.js and the ingest session read them from there). */
export function withCredentials(url: string, creds: ServiceCredentials | undefined): string {
  if (!creds) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(creds.username);
  u.password = encodeURIComponent(creds.password);
  return u.toString().replace(/\/$/, '');
}
