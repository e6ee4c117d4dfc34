import { loadScenario, scenarioNames } from './device-sim/scenario.ts';
import { planScenario } from './device-sim/plan.ts';
import { checkPlan } from './tests/unit/sim/replay-checks.ts';
for (const name of process.argv.slice(2).length ? process.argv.slice(2) : scenarioNames()) {
  const { scenario } = loadScenario(name);
  if (!scenario.shipment) continue;
  const t0 = performance.now();
  const plan = planScenario(scenario, { seed: 1 });
  const raised = checkPlan(scenario, plan);
  const msgs = plan.actions.filter(a => a.kind === 'telemetry').length;
  console.log(name, `span ${(plan.spanMs/3.6e6).toFixed(1)} h, ${plan.records} fixes, ${msgs} msgs, interval ${plan.reportIntervalS}, incident ${(plan.incidentAtMs/3.6e6).toFixed(2)} h, ${(performance.now()-t0).toFixed(0)} ms`);
  console.log('   raised', JSON.stringify(raised), ' expected', JSON.stringify(scenario.expect));
}
