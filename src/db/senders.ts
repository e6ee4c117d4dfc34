// Where each kind of sender lives: trackers and sites have the same tables under other names (fixed names, never
// from input), so every query written once for both takes its names from here.
export const SENDER_TABLES = {
  device: {
    owners: 'devices',
    id: 'device_id',
    keys: 'device_keys',
    state: 'device_state',
    evidence: 'messages',
  },
  site: {
    owners: 'sites',
    id: 'site_id',
    keys: 'site_keys',
    state: 'site_state',
    evidence: 'attestation_messages',
  },
} as const;
