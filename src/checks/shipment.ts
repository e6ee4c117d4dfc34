// A shipment as the checks and the API see it: what logistics registered and where the checks left it.

import type { PlannedRoute } from '../geo/types.ts';
import type { ShipmentState, ShipmentStatus } from './run.ts';
import type { CheckParams, Place } from './types.ts';

export interface ShipmentRecord {
  id: string;
  reference: string | null;
  /** Who the shipment is for (routes alerts to that customer's channels); null: not given. Always read. */
  customer?: string | null;
  deviceId: string;
  mode: 'sea' | 'air' | 'road';
  origin: Place;
  destination: Place & { siteId?: string };
  route: PlannedRoute;
  corridorKm: number;
  reportIntervalS: number;
  chips: string[];
  restrictedCountries: string[] | null;
  /** Free-text licences (before licence records): only compliance or admin may give them; they cover their country. */
  licenses: { country: string; number: string }[];
  /** The licence records the shipment cites (src/db/licences.ts). */
  licenceIds?: string[];
  /** The countries the cited licences cover at the moment the row was read: none once revoked or expired. */
  licensedCountries?: string[];
  plannedStops: Place[];
  params: Partial<CheckParams>;
  status: ShipmentStatus;
  checkState: Partial<ShipmentState>;
  lastFix: { ts: string; lat: number; lon: number } | null;
  progressKm: number | null;
  createdAt: string;
  startedAt: string | null;
  arrivedAt: string | null;
  installedAt: string | null;
}
