// docker-compose.yml against the Compose specification's JSON schema (vendored from compose-spec/compose-spec,
// deploy/compose-spec/compose-spec.json), and the wiring a deployment relies on: no Docker engine needed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}/${path}`, 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  secrets?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets: Record<string, unknown>;
};
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema', () => {
    const schema = JSON.parse(read('deploy/compose-spec/compose-spec.json'));
    // The schema names draft-07 by URL; Ajv's default meta-schema is draft-07, so the URL is only dropped.
    delete schema.$schema;
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema refuses a service with an unknown key (the validation is not vacuous)', () => {
    const schema = JSON.parse(read('deploy/compose-spec/compose-spec.json'));
    delete schema.$schema;
    const validate = new Ajv({ strict: false }).compile(schema);
    expect(validate({ services: { chipwatch: { image: 'x', restart_policy: 'always' } } })).toBe(false);
  });

  it('runs TimescaleDB, Mosquitto, chipwatch and the simulator, chipwatch after a healthy database', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['timescaledb', 'mosquitto', 'chipwatch', 'device-sim']),
    );
    expect(service('timescaledb').image).toMatch(/^timescale\/timescaledb:2\.17\./);
    expect(service('chipwatch').depends_on?.timescaledb?.condition).toBe('service_healthy');
    expect(service('device-sim').depends_on?.chipwatch?.condition).toBe('service_healthy');
    expect(service('chipwatch').healthcheck?.test.join(' ')).toContain('/readyz');
  });

  it('keeps chipwatch data (generated keys) on a named volume and the API secret in a secret file', () => {
    const chipwatch = service('chipwatch');
    expect(chipwatch.volumes).toContain('chipwatch-data:/data');
    expect(compose.volumes).toHaveProperty('chipwatch-data');
    expect(chipwatch.environment?.AUTH_JWT_SECRET).toBeUndefined();
    expect(chipwatch.environment?.AUTH_JWT_SECRET_FILE).toBe('/run/secrets/jwt-secret');
    expect(chipwatch.secrets).toContain('jwt-secret');
    expect(compose.secrets).toHaveProperty('jwt-secret');
  });

  it('runs the compiled simulator the image contains', () => {
    expect(service('device-sim').command?.slice(0, 2)).toEqual(['node', 'dist/device-sim/cli.js']);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  it('runs compiled JavaScript as the unprivileged node user with /data as its volume', () => {
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(dockerfile).toMatch(/DATA_DIR=\/data/);
    expect(dockerfile).toMatch(/^CMD \["node", "--enable-source-maps", "dist\/src\/main\.js"\]$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).not.toMatch(/tsx/);
  });
});
