// Alert delivery settings: defaults, and refusals that name the variable.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.ts';

describe('delivery configuration', () => {
  it('has defaults for every delivery key', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      DISPATCHER: 'on',
      DISPATCH_POLL_MS: 1000,
      DISPATCH_BATCH: 20,
      DELIVERY_MAX_ATTEMPTS: 12,
      DELIVERY_BACKOFF_BASE_MS: 1000,
      DELIVERY_BACKOFF_MAX_MS: 900_000,
      WEBHOOK_TIMEOUT_MS: 10_000,
      SMTP_FROM: 'chipwatch <chipwatch@localhost>',
      ALERT_LATE_AFTER_S: 3600,
    });
    expect(c.SMTP_URL).toBeUndefined();
  });

  it('reads the keys from the environment', () => {
    const c = loadConfig({
      DISPATCHER: 'off',
      SMTP_URL: 'smtp://mail.example.com:587',
      DELIVERY_MAX_ATTEMPTS: '3',
    });
    expect([c.DISPATCHER, c.SMTP_URL, c.DELIVERY_MAX_ATTEMPTS]).toEqual([
      'off',
      'smtp://mail.example.com:587',
      3,
    ]);
  });

  it('refuses bad values, naming the variable', () => {
    expect(() => loadConfig({ DISPATCHER: 'maybe' })).toThrow(ConfigError);
    expect(() => loadConfig({ DISPATCHER: 'maybe' })).toThrow(/DISPATCHER/);
    expect(() => loadConfig({ SMTP_URL: 'not a url' })).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ DISPATCH_BATCH: '0' })).toThrow(/DISPATCH_BATCH/);
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '-5' })).toThrow(/WEBHOOK_TIMEOUT_MS/);
  });
});
