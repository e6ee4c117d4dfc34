// `npm run demo`: chipwatch on its embedded defaults (PostgreSQL and the MQTT broker in this process, data in
// ./data), every scenario once (--scenario mixed) at 3600× (an hour a second), the verdicts, then chipwatch keeps
// running with the URLs to look at until Ctrl-C. DEMO_SPEEDUP changes the pace; HTTP_PORT, MQTT_PORT, DATA_DIR… as
// for `npm start`.
import { randomBytes } from 'node:crypto';
import { resolveJwtSecret } from '../src/auth.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { startChipwatch } from '../src/server.ts';
import { resolveToken } from './api.ts';
import { renderReport } from './report.ts';
import { runScenarios } from './run.ts';
import { fleetOf, hasSiteRegistry, scenarioList } from './scenario-cli.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const speedup = Number(process.env.DEMO_SPEEDUP ?? 3600);
  if (!(speedup >= 1)) throw new Error(`DEMO_SPEEDUP must be a number ≥ 1, got ${process.env.DEMO_SPEEDUP}`);
  say('starting chipwatch on its embedded defaults (first start initialises PostgreSQL: ~10–20 s)');
  const cw = await startChipwatch(config, createLogger(process.env.LOG_LEVEL ?? 'warn'));
  let stopping = false;
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
    say('stopping chipwatch (Ctrl-C again to quit now)');
    void cw.stop().finally(() => process.exit(0));
  });
  const api = cw.httpUrl!;
  resolveJwtSecret(config.AUTH_JWT_SECRET, config.DATA_DIR); // generated on first start, before minting from it
  const token = await resolveToken({ dataDir: config.DATA_DIR });
  let scenarios = scenarioList('mixed');
  if (!(await hasSiteRegistry(api, token))) scenarios = scenarios.filter((s) => !s.scenario.sites?.length);
  const report = await runScenarios({
    apiUrl: api,
    mqttUrl: cw.mqttUrl,
    token,
    speedup,
    scenarios: fleetOf(scenarios),
    idPrefix: `demo-${randomBytes(2).toString('hex')}`,
    say,
  });
  process.stdout.write(renderReport(report));
  const host = `http://localhost:${new URL(api).port}`;
  const first =
    report.instances.find((i) => i.shipmentId && !i.verdict.ok) ?? report.instances.find((i) => i.shipmentId);
  process.stdout.write(
    [
      '',
      'chipwatch is running (Ctrl-C stops it):',
      `  dashboard        ${host}/`,
      `  API reference    ${host}/docs`,
      `  shipments        ${host}/v1/shipments`,
      `  alerts           ${host}/v1/alerts`,
      ...(first ? [`  one track        ${host}/v1/shipments/${first.shipmentId}/track`] : []),
      `  MQTT             ${cw.mqttUrl}`,
      '  a token for the API and the dashboard (in another terminal, same folder):',
      `    TOKEN=$(npx chipwatch token --role compliance${config.DATA_DIR === './data' ? '' : ` # with DATA_DIR=${config.DATA_DIR}`})`,
      `    curl -s -H "Authorization: Bearer $TOKEN" ${host}/v1/alerts | head -c 2000`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  say(`demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
