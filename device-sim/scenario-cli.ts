// `npm run sim -- --scenario NAME|mixed`: plays scenarios against a running chipwatch and prints the verdicts.
import { apiCall, resolveToken } from './api.ts';
import type { Opts } from './options.ts';
import { renderReport } from './report.ts';
import { runScenarios } from './run.ts';
import { loadScenario, type NamedScenario, scenarioNames } from './scenario.ts';

/** The scenario files a `--scenario` value names: one, several (comma-separated), or all of them for mixed. */
export function scenarioList(arg: string): NamedScenario[] {
  const names = arg === 'mixed' ? scenarioNames() : arg.split(',').map((n) => n.trim());
  return names.map((n) => loadScenario(n));
}

/** `count` instances drawn round-robin from the scenarios: a fleet with every scenario at least once if it can. */
export function fleetOf(scenarios: NamedScenario[], count = scenarios.length): NamedScenario[] {
  return Array.from({ length: count }, (_, i) => scenarios[i % scenarios.length]!);
}

/** Whether chipwatch has the site registry (GET /v1/sites answers something other than 404). */
export async function hasSiteRegistry(apiUrl: string, token: string): Promise<boolean> {
  return (await apiCall(apiUrl, token, 'GET', '/v1/sites?limit=1')).status !== 404;
}

export async function runScenarioCommand(o: Opts): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  let scenarios = scenarioList(o.scenario!);
  const token = await resolveToken({ ...(o.token ? { token: o.token } : {}), dataDir: o.dataDir });
  if (o.scenario === 'mixed' && !(await hasSiteRegistry(o.api, token))) {
    const skipped = scenarios.filter((s) => s.scenario.sites?.length).map((s) => s.name);
    if (skipped.length)
      say(`this chipwatch has no site registry (GET /v1/sites is 404): skipping ${skipped.join(', ')}`);
    scenarios = scenarios.filter((s) => !s.scenario.sites?.length);
  }
  const abort = new AbortController();
  process.on('SIGINT', () => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
    say(
      'stopping: no more actions; waiting for outstanding acks, then the summary (Ctrl-C again to quit now)',
    );
  });
  const report = await runScenarios({
    apiUrl: o.api,
    mqttUrl: o.mqtt,
    token,
    topicPrefix: o.prefix,
    speedup: o.speedup,
    scenarios: fleetOf(scenarios, o.devices),
    idPrefix: o.idPrefix,
    alg: o.alg,
    seed: o.seed,
    settleMs: o.settle * 1000,
    say,
    signal: abort.signal,
  });
  process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : renderReport(report));
  return report.ok ? 0 : 1;
}
