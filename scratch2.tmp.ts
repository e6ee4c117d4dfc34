import { loadScenario } from './device-sim/scenario.ts';
import { planScenario } from './device-sim/plan.ts';
import { legFractionMs, journeyState } from './device-sim/journey.ts';
import { haversineKm, destinationPoint } from './src/geo/spherical.ts';
import { geo } from './tests/helpers/geo.ts';
const g = geo();
for (const name of ['diversion-sea', 'dark-reappear']) {
  const { scenario } = loadScenario(name);
  const plan = planScenario(scenario, { seed: 1 });
  for (const f of [0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7]) {
    const st = journeyState(plan.journey!, legFractionMs(plan.journey!, 0, f));
    const left = [200, 300, 450].map(km => { const p = destinationPoint(st, st.headingDeg - 90, km); return `${km}:${g.zones().zonesAt(p).map(z => z.country).join('/')||'sea'}`; });
    console.log(name, f, st.lat.toFixed(2), st.lon.toFixed(2), 'hdg', st.headingDeg.toFixed(0), 'to Sanya', haversineKm(st, {lat:18.6,lon:109.6}).toFixed(0), left.join(' '));
  }
}
