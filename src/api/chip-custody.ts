// A chip's custody chain as the API shows it, from what db/chips.ts reads. Pure.
import type { attestationsNaming, chipAlerts, shipmentsCarrying, sitesOfChip } from '../db/chips.ts';

/** Attestations shown per chip: where the chip runs now matters more than its first days (sites keep the span). */
export const MAX_CUSTODY_ATTESTATIONS = 1000;

export interface CustodyRows {
  shipments: Awaited<ReturnType<typeof shipmentsCarrying>>;
  /** The newest MAX_CUSTODY_ATTESTATIONS + 1, newest first: one more tells whether there are more. */
  newestAttestations: Awaited<ReturnType<typeof attestationsNaming>>;
  sites: Awaited<ReturnType<typeof sitesOfChip>>;
  alerts: Awaited<ReturnType<typeof chipAlerts>>;
}

/** The custody chain, its attestations in time order; undefined when no shipment carried and no site attested it. */
export function chipCustody(serial: string, rows: CustodyRows) {
  if (rows.shipments.length === 0 && rows.newestAttestations.length === 0) return undefined;
  const attestations = rows.newestAttestations.slice(0, MAX_CUSTODY_ATTESTATIONS).reverse();
  return {
    serial,
    shipments: rows.shipments,
    attestations,
    attestationsTruncated: rows.newestAttestations.length > MAX_CUSTODY_ATTESTATIONS,
    sites: rows.sites,
    alerts: rows.alerts,
  };
}
