import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

describe('configuration', () => {
  it('defaults to the embedded mode with documented ports', () => {
    const c = loadConfig({});
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.MQTT_URL).toBeUndefined();
    expect([c.HTTP_PORT, c.MQTT_PORT, c.DATA_DIR]).toEqual([8080, 1883, './data']);
    expect(c.INGEST_MAX_MESSAGE_BYTES).toBe(65536);
  });

  it('names every bad variable in one error', () => {
    expect(() =>
      loadConfig({ HTTP_PORT: 'eighty', DATABASE_URL: 'not a url', AUTH_JWT_SECRET: 'short' }),
    ).toThrow(/HTTP_PORT[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*HTTP_PORT/);
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'short' })).toThrow(/AUTH_JWT_SECRET: must be at least 32/);
  });

  it('treats an empty URL as unset', () => {
    expect(loadConfig({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });

  it('refuses a topic prefix with wildcards', () => {
    expect(() => loadConfig({ MQTT_TOPIC_PREFIX: 'a/+/b' })).toThrow(/MQTT_TOPIC_PREFIX/);
  });

  it('reads global check thresholds from CHECK_PARAMS and names what is wrong in it', () => {
    expect(loadConfig({ CHECK_PARAMS: '{"stopMinutesWatch": 90}' }).CHECK_PARAMS).toEqual({
      stopMinutesWatch: 90,
    });
    expect(loadConfig({}).CHECK_PARAMS).toEqual({});
    expect(() => loadConfig({ CHECK_PARAMS: '{"stopMinutesWatch": -1}' })).toThrow(/CHECK_PARAMS/);
    expect(() => loadConfig({ CHECK_PARAMS: '{"noSuchThreshold": 1}' })).toThrow(/CHECK_PARAMS/);
    expect(() => loadConfig({ CHECK_PARAMS: 'not json' })).toThrow(/CHECK_PARAMS: must be a JSON object/);
  });
});
