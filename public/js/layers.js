// The map's reference layers and the sites panel: countries by tier, custom zones, the legend, data-center sites.
// Each loads on its own, so one failing (or missing on an older server) leaves the rest of the dashboard working.
import { ApiError } from './api.js';
import { $, h } from './dom.js';
import { AGE_CLASSES, TIER_STYLE } from './format.js';
import { renderSiteDetail, renderSiteList } from './sites.js';

export async function loadBaseMap(api, map) {
  try {
    const [countries, policy] = await Promise.all([
      fetch('/dashboard/countries.geojson').then((r) => {
        if (!r.ok) throw new Error(`country outlines: HTTP ${r.status}`);
        return r.json();
      }),
      api.get('/v1/policy').catch((e) => {
        if (e instanceof ApiError && (e.routeMissing || e.status === 403)) return { tiers: {} };
        throw e;
      }),
    ]);
    map.setCountries(countries, policy.tiers);
    $('#policy-note').textContent = policy.checkedAt
      ? `Country tiers: export policy checked ${policy.checkedAt}.`
      : 'Country tiers unavailable.';
  } catch (e) {
    $('#map-caption').textContent = `The map's country outlines did not load: ${e.message}`;
  }
}

export async function loadZones(api, map) {
  try {
    map.setZones((await api.get('/v1/zones')).items);
  } catch {
    // Custom zones are an overlay: without them the map still shows countries and shipments.
  }
}

export function renderLegend(caps) {
  const item = (cls, text) => h('li', {}, h('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), text);
  $('#legend-list').replaceChildren(
    ...Object.entries(TIER_STYLE).map(([tier, s]) => item(`sw-${tier}`, s.label)),
    item('sw-zone', 'custom zone'),
    item('swatch-dot sw-shipment', 'shipment'),
    item('swatch-line swatch-dashed sw-route', 'planned route'),
    item('sw-corridor', 'corridor'),
    ...AGE_CLASSES.map((c, i) => item(`swatch-line sw-age-${i}`, `track ${c.label}`)),
    item('swatch-dot sw-evidence', 'alert evidence'),
    ...(caps.sites ? [item('swatch-dot sw-site', 'site'), item('sw-feasible', 'feasible region')] : []),
  );
}

export async function loadSites(api, map, caps) {
  const panel = $('#sites-panel');
  panel.hidden = true;
  if (!caps.sites) return;
  let sites;
  try {
    sites = (await api.all('/v1/sites?limit=500')).items;
  } catch {
    // No site registry on this server yet (404), or not for this role (403): the panel stays hidden.
    return;
  }
  panel.hidden = false;
  const select = async (id) => {
    try {
      const site = await api.get(`/v1/sites/${encodeURIComponent(id)}`);
      renderSiteDetail($('#site-detail'), site);
      map.showSite(site);
    } catch (e) {
      $('#site-detail').textContent = `Site ${id} could not be loaded: ${e.message}`;
    }
  };
  renderSiteList($('#site-list'), sites, select);
  map.setSites(sites, select);
  if (sites.length === 0)
    $('#site-list').replaceChildren(h('li', { class: 'muted' }, 'No sites registered.'));
}
