// The world map: Natural Earth outlines served by chipwatch (no tile server, works offline), countries shaded by
// policy tier, custom zones outlined, shipments, the selected shipment's route, corridor and track, alert evidence,
// and sites. Only drawing here; what to draw comes from main.js.
import * as L from '/dashboard/vendor/leaflet/leaflet-src.esm.js';
import {
  AGE_CLASSES,
  cssId,
  regionGeometry,
  SEVERITY_COLOR,
  TIER_STYLE,
  trackRuns,
  unwrapLines,
  unwrapLongitudes,
} from './format.js';

/** Tooltips as text nodes: Leaflet puts a string in as HTML, and references and names are user input. */
function tip(text) {
  const el = document.createElement('span');
  el.textContent = text;
  return el;
}

const SHIPMENT_COLOR = {
  planned: '#475569',
  in_transit: '#1d4ed8',
  arrived: '#15803d',
  installed: '#15803d',
};

export function createMap(element) {
  // Users who ask for less motion get a map that jumps instead of gliding.
  const still = matchMedia('(prefers-reduced-motion: reduce)').matches;
  const map = L.map(element, {
    zoomAnimation: !still,
    fadeAnimation: !still,
    markerZoomAnimation: !still,
    center: [25, 30],
    zoom: 2,
    minZoom: 1,
    maxZoom: 12,
    zoomSnap: 0.5,
    worldCopyJump: false,
    maxBounds: [
      [-89, -250],
      [89, 250],
    ],
    attributionControl: false,
  });
  // Leaflet measures its container once and on window resizes only; the grid changes the map's size as panels fill
  // in and layouts switch (laptop, tablet), which would leave layers clipped to the old size.
  new ResizeObserver(() => map.invalidateSize({ pan: false })).observe(element);
  // Layers are redrawn when a move ends; `data-moving` tells a screenshot (or a test) to wait until then.
  map.on('movestart zoomstart', () => {
    element.dataset.moving = 'true';
  });
  map.on('moveend', () => {
    delete element.dataset.moving;
  });
  L.control.attribution({ prefix: 'Leaflet · Natural Earth' }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  // Panes order the layers whatever order they are added in: land, zones, shipment, evidence, points.
  for (const [name, z] of [
    ['land', 200],
    ['zones', 300],
    ['corridor', 380],
    ['track', 420],
    ['points', 460],
    ['evidence', 480],
  ]) {
    map.createPane(name).style.zIndex = String(z);
  }

  let countries;
  const zones = L.layerGroup().addTo(map);
  const shipments = L.layerGroup().addTo(map);
  const selection = L.layerGroup().addTo(map);
  const evidence = L.layerGroup().addTo(map);
  const sites = L.layerGroup().addTo(map);
  const siteDetail = L.layerGroup().addTo(map);

  return {
    leaflet: map,

    setCountries(collection, tiers) {
      countries?.remove();
      countries = L.geoJSON(collection, {
        pane: 'land',
        interactive: false,
        style: (f) => {
          const tier = TIER_STYLE[tiers[f.id]];
          return {
            className: `cw-country${tier ? ` cw-tier-${tiers[f.id]}` : ''}`,
            color: tier ? tier.stroke : '#8a94a0',
            weight: tier ? 0.8 : 0.5,
            fillColor: tier ? tier.fill : '#f4f1ea',
            fillOpacity: tier ? 0.75 : 1,
          };
        },
      }).addTo(map);
    },

    setZones(items) {
      zones.clearLayers();
      for (const z of items) {
        const tier = TIER_STYLE[z.tier] ?? TIER_STYLE.watch;
        L.geoJSON(z.geometry, {
          pane: 'zones',
          style: {
            className: 'cw-zone',
            color: tier.stroke,
            weight: 2,
            dashArray: '6 4',
            fillColor: tier.fill,
            fillOpacity: 0.15,
          },
        })
          .bindTooltip(tip(`${z.name} — custom zone, ${tier.label.toLowerCase()}`))
          .addTo(zones);
      }
    },

    /** One marker per shipment with a position; a click calls onSelect(id). */
    setShipments(list, selectedId, onSelect) {
      shipments.clearLayers();
      for (const s of list) {
        const p = s.lastPosition;
        if (!p) continue;
        const selected = s.id === selectedId;
        L.circleMarker([p.lat, p.lon], {
          pane: 'points',
          className: `cw-shipment cw-shipment--${cssId(s.id)}`,
          radius: selected ? 9 : 7,
          color: '#ffffff',
          weight: 2,
          fillColor: SHIPMENT_COLOR[s.status] ?? '#475569',
          fillOpacity: 1,
        })
          .bindTooltip(
            tip(`${s.id}${s.reference ? ` · ${s.reference}` : ''} — ${s.status.replace('_', ' ')}`),
          )
          .on('click', () => onSelect(s.id))
          .addTo(shipments);
      }
    },

    /** The selected shipment's track (GET /v1/shipments/{id}/track); fits the view when asked. */
    showTrack(collection, { fit, onAlert }) {
      selection.clearLayers();
      const bounds = L.latLngBounds([]);
      const now = Date.now();
      // Everything is drawn in the world copy where the planned route starts, continuous across ±180.
      const planned = collection.features.find((x) => x.properties?.kind === 'plannedRoute')?.geometry;
      const refLon = planned ? unwrapLines(planned)[0]?.[0]?.[0] : undefined;
      for (const f of collection.features) {
        const kind = f.properties?.kind;
        if (!f.geometry) continue;
        if (kind === 'corridor') {
          L.geoJSON(f.geometry, {
            pane: 'corridor',
            interactive: false,
            style: {
              className: 'cw-corridor',
              color: '#2563eb',
              weight: 1,
              opacity: 0.6,
              fillColor: '#3b82f6',
              fillOpacity: 0.12,
            },
          }).addTo(selection);
        } else if (kind === 'plannedRoute') {
          // Cut at ±180 by the API (RFC 7946); drawn continuous across the Pacific.
          const layer = L.polyline(
            unwrapLines(f.geometry).map((part) => part.map(([lon, lat]) => [lat, lon])),
            {
              pane: 'track',
              interactive: false,
              className: 'cw-planned-route',
              color: '#1e3a8a',
              weight: 2,
              dashArray: '8 6',
            },
          ).addTo(selection);
          bounds.extend(layer.getBounds());
        } else if (kind === 'actualTrack') {
          const coordinates = unwrapLongitudes(f.geometry.coordinates, refLon);
          for (const run of trackRuns(coordinates, f.properties.times, now)) {
            L.polyline(run.points, {
              pane: 'track',
              interactive: false,
              className: `cw-track cw-track-age-${run.cls}`,
              color: AGE_CLASSES[run.cls].color,
              weight: 3.5,
            }).addTo(selection);
          }
          const last = coordinates.at(-1);
          L.circleMarker([last[1], last[0]], {
            pane: 'points',
            className: 'cw-current-position',
            radius: 8,
            color: '#ffffff',
            weight: 3,
            fillColor: AGE_CLASSES[0].color,
            fillOpacity: 1,
          })
            .bindTooltip(tip(`current position, ${f.properties.times.at(-1)}`))
            .addTo(selection);
          bounds.extend(L.polyline(coordinates.map((c) => [c[1], c[0]])).getBounds());
        } else if (kind === 'alert') {
          const [[lon, lat]] = unwrapLongitudes([f.geometry.coordinates], refLon);
          L.circleMarker([lat, lon], {
            pane: 'points',
            className: `cw-alert-point cw-alert-point--${cssId(f.properties.alertId)}`,
            radius: 6,
            color: '#ffffff',
            weight: 1.5,
            fillColor: SEVERITY_COLOR[f.properties.severity] ?? '#b91c1c',
            fillOpacity: 1,
          })
            .bindTooltip(tip(`${f.properties.type} (${f.properties.status})`))
            .on('click', () => onAlert(f.properties.alertId))
            .addTo(selection);
        }
      }
      if (fit && bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 7 });
    },

    clearTrack() {
      selection.clearLayers();
    },

    /** Rings around the fixes an alert names as evidence, joined in order (segment crossed, gap jumped). */
    showEvidence(alert, points) {
      evidence.clearLayers();
      if (points.length === 0) return false;
      const color = SEVERITY_COLOR[alert.severity] ?? '#b91c1c';
      const latlngs = points.map((p) => [p.lat, p.lon]);
      if (latlngs.length > 1) {
        L.polyline(latlngs, {
          pane: 'evidence',
          className: 'cw-evidence-link',
          color,
          weight: 2,
          dashArray: '4 4',
        }).addTo(evidence);
      }
      for (const p of points) {
        L.circleMarker([p.lat, p.lon], {
          pane: 'evidence',
          className: 'cw-evidence',
          radius: 14,
          color,
          weight: 3,
          fillColor: color,
          fillOpacity: 0.2,
        })
          .bindTooltip(tip(`${alert.type}: ${p.label}${p.ts ? `, ${p.ts}` : ''}`), { permanent: false })
          .addTo(evidence);
      }
      map.fitBounds(L.latLngBounds(latlngs).pad(0.5), { maxZoom: 6 });
      return true;
    },

    clearEvidence() {
      evidence.clearLayers();
    },

    setSites(list, onSelect) {
      sites.clearLayers();
      for (const s of list) {
        if (typeof s.lat !== 'number' || typeof s.lon !== 'number') continue;
        L.circleMarker([s.lat, s.lon], {
          pane: 'points',
          className: `cw-site cw-site--${cssId(s.id)}`,
          radius: 6,
          color: '#0f766e',
          weight: 3,
          fillColor: '#ffffff',
          fillOpacity: 1,
        })
          .bindTooltip(tip(`site ${s.id}${s.name ? ` · ${s.name}` : ''}`))
          .on('click', () => onSelect(s.id))
          .addTo(sites);
      }
    },

    /** A site's registered radius and the feasible region its latest RTTs allow. */
    showSite(site) {
      siteDetail.clearLayers();
      const bounds = L.latLngBounds([]);
      if (typeof site.lat === 'number' && typeof site.radiusKm === 'number') {
        const circle = L.circle([site.lat, site.lon], {
          pane: 'zones',
          className: 'cw-site-radius',
          radius: site.radiusKm * 1000,
          color: '#0f766e',
          weight: 2,
          fillOpacity: 0.1,
        }).addTo(siteDetail);
        bounds.extend(circle.getBounds());
      }
      // Each landmark's disk: light could not have made the round trip from farther away.
      for (const d of site.feasibleRegion?.disks ?? []) {
        L.circle([d.lat, d.lon], {
          pane: 'zones',
          interactive: false,
          className: 'cw-landmark-disk',
          radius: d.radiusKm * 1000,
          color: '#047857',
          weight: 1,
          opacity: 0.5,
          fill: false,
        }).addTo(siteDetail);
      }
      const geometry = regionGeometry(site);
      if (geometry) {
        const region = L.geoJSON(geometry, {
          pane: 'zones',
          style: {
            className: 'cw-feasible-region',
            color: '#047857',
            weight: 2,
            dashArray: '3 5',
            fillColor: '#34d399',
            fillOpacity: 0.15,
          },
        })
          .bindTooltip(tip('feasible region from the latest round-trip times'))
          .addTo(siteDetail);
        if (region.getBounds().isValid()) bounds.extend(region.getBounds());
      }
      const claimed = site.lastAttestation?.location;
      if (claimed) {
        L.circleMarker([claimed.lat, claimed.lon], {
          pane: 'points',
          className: 'cw-site-claimed',
          radius: 5,
          color: '#0f766e',
          weight: 2,
          fillColor: '#0f766e',
          fillOpacity: 1,
        })
          .bindTooltip(tip(`location the site claims in its latest attestation`))
          .addTo(siteDetail);
        bounds.extend([claimed.lat, claimed.lon]);
      }
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 9 });
    },

    /** Everything but the country outlines: what one user saw must not linger for the next. */
    clear() {
      for (const group of [zones, shipments, selection, evidence, sites, siteDetail]) group.clearLayers();
    },

    invalidate() {
      map.invalidateSize();
    },
  };
}
