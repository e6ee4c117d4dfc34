// External servers for the benchmarks: BENCH_DATABASE_URL (a PostgreSQL or TimescaleDB chipwatch may migrate) and
// BENCH_MQTT_URL (a Mosquitto with the dynamic-security plugin) with the credentials chipwatch needs there:
//   BENCH_MQTT_USERNAME (default chipwatch) / BENCH_MQTT_PASSWORD: chipwatch's service user (created or corrected by
//     chipwatch through dynsec when missing),
//   BENCH_MQTT_DYNSEC_ADMIN_USERNAME / BENCH_MQTT_DYNSEC_ADMIN_PASSWORD: the dynsec admin, so chipwatch can create
//     each registered tracker's client and role (and the scale-out bench its ack observer).
// Unset: the benchmarks start what they need themselves.

export interface ExternalMqtt {
  url: string;
  /** chipwatch's environment for this broker (MQTT_URL, its service user, the dynsec admin). */
  env: Record<string, string>;
  admin: { username: string; password: string };
}

export function externalDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.BENCH_DATABASE_URL || undefined;
}

export function externalMqtt(env: NodeJS.ProcessEnv = process.env): ExternalMqtt | undefined {
  const url = env.BENCH_MQTT_URL;
  if (!url) return undefined;
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`BENCH_MQTT_URL is set: set ${k} too (see bench/targets.ts)`);
    return v;
  };
  const admin = {
    username: need('BENCH_MQTT_DYNSEC_ADMIN_USERNAME'),
    password: need('BENCH_MQTT_DYNSEC_ADMIN_PASSWORD'),
  };
  return {
    url,
    admin,
    env: {
      MQTT_URL: url,
      MQTT_USERNAME: env.BENCH_MQTT_USERNAME || 'chipwatch',
      MQTT_PASSWORD: need('BENCH_MQTT_PASSWORD'),
      MQTT_DYNSEC_ADMIN_USERNAME: admin.username,
      MQTT_DYNSEC_ADMIN_PASSWORD: admin.password,
    },
  };
}
