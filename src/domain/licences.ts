// A licence compliance grants (an export authorisation with its countries, items, end user and validity), as the
// database keeps it, the API shows it and an evidence bundle carries it.

export interface LicenceFields {
  number: string;
  countries: string[];
  items: string[];
  endUser: string;
  validFrom: string;
  validTo: string;
  notes: string | null;
}

export interface LicenceRecord extends LicenceFields {
  id: string;
  grantedBy: string;
  grantedAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
  revokeReason: string | null;
  /** Whether it covers anything now: not revoked, and now lies in [validFrom, validTo). */
  status: 'active' | 'pending' | 'expired' | 'revoked';
}
