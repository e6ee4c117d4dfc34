// Alerts in plain words: one paragraph per alert from its type and details — what happened, where, when, against
// what was planned, and how sure chipwatch is. Shared by the dashboard (served to the browser as JavaScript, so this
// file and explain-words.ts import nothing else), the e-mail notifier and the incident report. Pure.
//
// Details are read defensively: a field a newer check renamed or left out drops its clause, and an alert whose
// details name none of what its type's sentence needs gets a generic sentence (the raw details stay one click away).

import {
  cap,
  type D,
  figure,
  hours,
  isObj,
  km,
  num,
  place,
  sentences,
  str,
  strings,
  typeWords,
  utc,
} from './explain-words.ts';

export { figure, place, typeWords, utc };

/** What an explanation needs of an alert: the API's AlertView satisfies it, so does a bundle's alert. */
export interface ExplainableAlert {
  type: string;
  details?: Record<string, unknown> | null;
  shipmentId?: string | null;
  deviceId?: string | null;
  siteId?: string | null;
  count?: number;
}

function subjectOf(a: ExplainableAlert): string {
  if (a.shipmentId) return `shipment ${a.shipmentId}`;
  if (a.siteId) return `site ${a.siteId}`;
  if (a.deviceId) return `tracker ${a.deviceId}`;
  return 'this subject';
}

const zoneWords = (d: D) => {
  const name = str(d.zoneName) ?? str(d.zoneId);
  const code = str(d.country);
  return name ? `${name}${code && code !== name ? ` (${code})` : ''}` : undefined;
};

const TIER_WORDS: Record<string, string> = {
  restricted: 'a restricted destination',
  licenseRequired: 'a destination that needs a licence the shipment does not cite',
  watch: 'a transshipment hub under watch',
};

type Explainer = (d: D, a: ExplainableAlert) => string | undefined;

/** The planned destination against the course: "Its destination, Rotterdam, lies 9,100 km away at 290°". */
function destinationWords(d: D): string | undefined {
  const dest = isObj(d.destination) ? (str(d.destination.name) ?? place(d.destination)) : undefined;
  const away = num(d.distanceToDestinationKm);
  if (!dest && away === undefined) return undefined;
  const bearing = num(d.bearingToDestinationDeg);
  return `Its planned destination${dest ? `, ${dest},` : ''} lies${away !== undefined ? ` ${km(away)} away` : ''}${bearing !== undefined ? ` at a bearing of ${figure(bearing)}°` : ''}`;
}

const EXPLAIN: Record<string, Explainer> = {
  RESTRICTED_ZONE_ENTERED: (d, a) => {
    const zone = zoneWords(d);
    const fix = place(d.fix);
    if (!zone && !fix) return undefined;
    const tier = TIER_WORDS[str(d.tier) ?? ''] ?? 'a restricted area';
    const crossed = d.via === 'segment';
    return sentences(
      crossed
        ? `Between two signed fixes, ${subjectOf(a)} crossed into ${zone ?? 'a restricted zone'}, ${tier}: the last fix outside was ${place(d.from) ?? 'unknown'}, the next ${fix ?? 'unknown'}`
        : `A signed fix placed ${subjectOf(a)} inside ${zone ?? 'a restricted zone'}, ${tier}, at ${fix ?? 'an unrecorded position'}`,
      num(d.crossTrackKm) !== undefined && `That is ${km(num(d.crossTrackKm)!)} from the planned route`,
      d.unbound === true && 'The tracker rides with no registered shipment',
      crossed
        ? 'Neither fix lies inside; the straight line between them does, so the shipment very probably passed through unless the tracker took an unusual detour'
        : 'This rests on the tracker’s own position report, signed by its key; only a spoofed or faulty GNSS receiver would explain it otherwise',
    );
  },
  DIVERSION_TOWARD_RESTRICTED: (d, a) => {
    const zone = zoneWords(d) ?? 'a restricted zone';
    const fix = place(d.fix);
    const off =
      num(d.crossTrackKm) !== undefined
        ? `${km(num(d.crossTrackKm)!)} off the planned corridor`
        : 'off the planned corridor';
    if (d.reason === 'approaching') {
      return sentences(
        `${cap(subjectOf(a))} is ${off}${fix ? ` (last fix ${fix})` : ''} and has been closing on ${zone} fix after fix`,
        num(d.closedKm) !== undefined &&
          `It came ${km(num(d.closedKm)!)} closer over ${hours(num(d.overHours) ?? 0)}${num(d.borderKm) !== undefined ? ` and is now ${km(num(d.borderKm)!)} from its border` : ''}`,
        'A steady approach over several fixes is hard to explain by GNSS noise; it may still be weather routing or a port call, which the carrier can confirm',
      );
    }
    return sentences(
      `${cap(subjectOf(a))} is ${off}${fix ? ` (last fix ${fix})` : ''}, holding a course${num(d.courseDeg) !== undefined ? ` of ${figure(num(d.courseDeg)!)}°` : ''}${num(d.speedKmh) !== undefined ? ` at ${figure(num(d.speedKmh)!)} km/h` : ''} that reaches ${zone}`,
      num(d.withinKm) !== undefined &&
        `Kept up, it crosses that border in ${km(num(d.withinKm)!)}${num(d.etaHours) !== undefined ? `, about ${hours(num(d.etaHours)!)} away at that speed` : ''}${num(d.horizonHours) !== undefined ? ` (chipwatch looks ${hours(num(d.horizonHours)!)} ahead)` : ''}`,
      isObj(d.via) &&
        `On the way it crosses ${zoneWords(d.via) ?? 'a licence-required zone'}${num(d.via.withinKm) !== undefined ? ` in ${km(num(d.via.withinKm)!)}` : ''}`,
      destinationWords(d),
      'The course was held over several fixes, so this is a projection, not yet an entry: it is the moment to call the carrier',
    );
  },
  ROUTE_DEVIATION: (d, a) => {
    const now = num(d.crossTrackKm);
    const corridor = num(d.corridorKm);
    if (now === undefined && corridor === undefined) return undefined;
    return sentences(
      `${cap(subjectOf(a))} left its planned corridor${corridor !== undefined ? ` of ${km(corridor)} either side of the route` : ''}${now !== undefined ? ` and is ${km(now)} from the route` : ''}${place(d.fix) ? ` at its last fix (${place(d.fix)})` : ''}`,
      num(d.maxCrossTrackKm) !== undefined && `The farthest it has been is ${km(num(d.maxCrossTrackKm)!)}`,
      (num(d.fixesOutside) !== undefined || utc(d.outsideSince) !== undefined) &&
        `It has been outside${utc(d.outsideSince) ? ` since ${utc(d.outsideSince)}` : ''}${num(d.fixesOutside) !== undefined ? `, ${num(d.fixesOutside)} fixes in a row` : ''}, so one stray fix cannot have caused this`,
    );
  },
  UNPLANNED_STOP: (d, a) => {
    const where = place(d);
    const minutes = num(d.stoppedMinutes);
    if (!where && minutes === undefined) return undefined;
    const hub = isObj(d.watchZone) ? (str(d.watchZone.name) ?? str(d.watchZone.id)) : undefined;
    return sentences(
      `${cap(subjectOf(a))} has stood still${where ? ` at ${where}` : ''}${str(d.country) ? ` (${str(d.country)})` : ''}${minutes !== undefined ? ` for ${hours(minutes / 60)}` : ''}${utc(d.since) ? `, since ${utc(d.since)}` : ''}, away from its origin, destination and planned stops`,
      num(d.thresholdMinutes) !== undefined &&
        `The limit there is ${hours(num(d.thresholdMinutes)! / 60)}${hub ? `, shorter because ${hub} is a known transshipment hub` : ''}`,
      'A stop is where cargo can be unloaded or swapped: the carrier should say why it stopped',
    );
  },
  SIGNAL_LOST: (d, a) => {
    const minutes = num(d.silentMinutes);
    const last = place(d.lastFix);
    if (minutes === undefined && !last) return undefined;
    return sentences(
      `chipwatch has heard nothing from ${subjectOf(a)}${minutes !== undefined ? ` for ${hours(minutes / 60)}` : ''}${last ? `; its last fix was ${last}` : ''}`,
      num(d.reportIntervalS) !== undefined &&
        `It should report every ${hours(num(d.reportIntervalS)! / 3600)}${num(d.intervals) !== undefined ? `; the alert fires after ${num(d.intervals)} missed reports` : ''}`,
      'Silence proves nothing by itself (holds and hangars block radio), but a tracker keeps its fixes and sends them when it is heard again: watch for where it reappears',
    );
  },
  GAP_WITH_DISPLACEMENT: (d, a) => {
    const gap = num(d.gapHours);
    const moved = num(d.movedKm);
    if (gap === undefined && moved === undefined) return undefined;
    return sentences(
      `After ${gap !== undefined ? hours(gap) : 'a gap'} without telemetry, ${subjectOf(a)} reappeared${moved !== undefined ? ` ${km(moved)} from where it went silent` : ''}${place(d.before) && place(d.after) ? ` (from ${place(d.before)} to ${place(d.after)})` : ''}`,
      d.reason === 'farther than the top speed allows' && num(d.reachableKm) !== undefined
        ? `No vehicle of its kind covers that: at most ${km(num(d.reachableKm)!)} was reachable in the time, so the tracker was probably moved by other means, or one of the positions is false`
        : num(d.crossTrackKm) !== undefined &&
            `It came back ${km(num(d.crossTrackKm)!)} from the planned route${num(d.corridorKm) !== undefined ? ` (corridor ${km(num(d.corridorKm)!)})` : ''}: the silence hid a detour`,
    );
  },
  TAMPER: (d, a) => {
    const fix = place(d.fix);
    const reason = str(d.reason);
    if (!fix && !reason) return undefined;
    return sentences(
      `${cap(subjectOf(a))} reported ${reason === 'tamper switch' ? 'its tamper switch tripped' : reason ? reason : 'tampering'}${fix ? ` at ${fix}` : ''}, away from the destination`,
      'The case is sealed until delivery: an opening on the way means the cargo may have been reached; compare the chips attested on arrival with the shipment’s list',
    );
  },
  SPOOFING_SUSPECTED: (d, a) => {
    const flags = strings(d.flags);
    const fix = place(d.fix);
    if (flags.length === 0 && !fix) return undefined;
    const known = ['SPEED_IMPOSSIBLE', 'FROZEN_TRACK', 'GNSS_IMPOSSIBLE', 'SPOOF_PINNED', 'TOO_REGULAR'];
    const claimed = zoneWords(d);
    return sentences(
      flags.includes('TOO_REGULAR')
        ? `${cap(subjectOf(a))} reports a track too regular to come from a real receiver${fix ? ` (up to ${fix})` : ''}`
        : `${cap(subjectOf(a))} sent a position that real travel cannot produce${fix ? ` (${fix})` : ''}`,
      flags.includes('TOO_REGULAR') &&
        `Over ${num(d.windowFixes) ?? 'several'} fixes the positions wander by ${num(d.positionNoiseMedianM) !== undefined ? `${figure(num(d.positionNoiseMedianM)!)} m` : 'almost nothing'} and speed, HDOP and satellites barely change; genuine GNSS fixes vary from one to the next`,
      flags.includes('SPEED_IMPOSSIBLE') &&
        `It jumped${num(d.jumpKm) !== undefined ? ` ${km(num(d.jumpKm)!)}` : ''}${place(d.lastTrustedFix) ? ` from its last trusted fix (${place(d.lastTrustedFix)})` : ''}, implying ${num(d.impliedSpeedKmh) !== undefined ? `${figure(num(d.impliedSpeedKmh)!)} km/h` : 'an impossible speed'}${num(d.maxSpeedKmh) !== undefined ? ` where ${figure(num(d.maxSpeedKmh)!)} km/h is the most its mode allows` : ''}`,
      flags.includes('SPOOF_PINNED') &&
        `It keeps returning to a place it was seen at${place(d.lastTrustedFix) ? `, far from its last trusted fix (${place(d.lastTrustedFix)})` : ''}: a spoofer's fixed position`,
      flags.includes('FROZEN_TRACK') &&
        `${num(d.identicalFixes) ?? 'Several'} identical fixes in a row while reporting ${num(d.reportedSpeedKmh) !== undefined ? `${figure(num(d.reportedSpeedKmh)!)} km/h` : 'movement'}: a replayed or frozen position`,
      flags.includes('GNSS_IMPOSSIBLE') &&
        `The receiver claims a fix from ${num(d.satellites) ?? 'too few'} satellites${num(d.hdop) !== undefined ? ` with HDOP ${num(d.hdop)}` : ''}, which no genuine receiver reports`,
      flags.some((f) => !known.includes(f)) &&
        `Also flagged: ${flags.filter((f) => !known.includes(f)).join(', ')}`,
      claimed &&
        `The false position lies in ${claimed}; chipwatch raises no entry on a position it found impossible`,
      d.drivesChecks === false || flags.includes('TOO_REGULAR')
        ? 'Until the tracker is inspected its positions are kept as evidence but do not move the other checks'
        : 'Its later positions cannot be trusted on their own until the tracker is inspected',
    );
  },
  DESTINATION_MISMATCH: (d, a) => {
    const where = place(d);
    const dest = isObj(d.destination) ? (str(d.destination.name) ?? place(d.destination)) : undefined;
    if (!where && !dest) return undefined;
    return sentences(
      `${cap(subjectOf(a))} has stayed${where ? ` at ${where}` : ''}${str(d.country) ? ` (${str(d.country)})` : ''}${num(d.stoppedHours) !== undefined ? ` for ${hours(num(d.stoppedHours)!)}` : ''}${num(d.distanceToDestinationKm) !== undefined ? `, ${km(num(d.distanceToDestinationKm)!)} from its destination` : ''}${dest ? ` (${dest})` : ''}`,
      'A shipment that ends anywhere but its licensed destination may have been delivered to someone else: confirm where the cargo is',
    );
  },
  ATTESTATION_LOCATION_MISMATCH: (d, a) => {
    const claimed = place(d.claimed);
    if (!claimed && num(d.distanceKm) === undefined) return undefined;
    return sentences(
      `${cap(subjectOf(a))} signed an attestation claiming to be at ${claimed ?? 'another place'}${num(d.distanceKm) !== undefined ? `, ${km(num(d.distanceKm)!)} from where it is registered` : ''}${num(d.radiusKm) !== undefined ? ` (allowed: ${km(num(d.radiusKm)!)})` : ''}`,
      'The site says so itself, in a signed message: the chips may have been moved with their servers',
    );
  },
  ATTESTATION_RTT_IMPLAUSIBLE: (d, a) => {
    const v = Array.isArray(d.violations) ? d.violations.filter(isObj) : [];
    if (v.length === 0 && !place(d.claimed)) return undefined;
    const worst = v[0];
    return sentences(
      `${cap(subjectOf(a))} claims to be at ${place(d.claimed) ?? 'its registered place'}, but its network round trips prove it cannot be`,
      worst &&
        `Landmark ${str(worst.landmarkId) ?? '?'} answered in ${num(worst.rttMs) ?? '?'} ms, so the site lies within ${num(worst.boundKm) !== undefined ? km(num(worst.boundKm)!) : 'a short distance'} of it; the claimed place is ${num(worst.distanceKm) !== undefined ? km(num(worst.distanceKm)!) : 'farther'} away${v.length > 1 ? ` (${v.length} landmarks disagree)` : ''}`,
      'Nothing travels faster than light, so this holds whatever the network: the site is somewhere else',
    );
  },
  CHIP_AT_UNEXPECTED_SITE: (d, a) => {
    const serials = strings(d.serials);
    if (serials.length === 0) return undefined;
    const named = `${serials.slice(0, 5).join(', ')}${serials.length > 5 ? ` and ${serials.length - 5} more` : ''}`;
    if (str(d.otherSiteId)) {
      return sentences(
        `Chip ${named} was attested at ${str(d.siteId) ? `site ${str(d.siteId)}` : subjectOf(a)} and at site ${str(d.otherSiteId)}${num(d.distanceKm) !== undefined ? `, ${km(num(d.distanceKm)!)} apart` : ''}${num(d.seconds) !== undefined ? `, ${figure(num(d.seconds)!)} s apart in time` : ''}`,
        'Nothing could carry it between them that fast: one of the two attestations names a serial it does not hold',
      );
    }
    return sentences(
      `${cap(subjectOf(a))} attested chip${serials.length > 1 ? 's' : ''} ${named}, which ${serials.length > 1 ? 'were' : 'was'} shipped to another destination`,
      'The site signed this itself: the chips are where their licence does not send them',
    );
  },
  CHIP_MISSING: (d, a) => {
    const serials = strings(d.serials);
    if (str(d.lastAttestedAt) || d.reason === 'the site stopped attesting') {
      return sentences(
        `${cap(subjectOf(a))} stopped attesting${utc(d.lastAttestedAt) ? `: its last attestation was at ${utc(d.lastAttestedAt)}` : ''}${num(d.silentMinutes) !== undefined ? `, ${hours(num(d.silentMinutes)! / 60)} ago` : ''}`,
        'While it is silent nothing proves its chips are still there',
      );
    }
    if (serials.length === 0) return undefined;
    return sentences(
      `${serials.length} chip${serials.length > 1 ? 's' : ''} delivered to ${subjectOf(a)} (${serials.slice(0, 5).join(', ')}${serials.length > 5 ? ', …' : ''}) ${serials.length > 1 ? 'are' : 'is'} absent from its attestations${num(d.afterS) !== undefined ? ` for more than ${hours(num(d.afterS)! / 3600)}` : ''}`,
      'They may be powered off, or gone: the site should account for them',
    );
  },
  SIGNATURE_INVALID: (d, a) =>
    badMessage(d, a, 'carried a signature that does not verify against its registered key'),
  UNKNOWN_KEY: (d, a) => badMessage(d, a, 'was signed with a key chipwatch does not know'),
  REPLAY: (d, a) => badMessage(d, a, 'reused a sequence number with different content (a replay)'),
};

function badMessage(d: D, a: ExplainableAlert, what: string): string {
  return sentences(
    `A message in the name of ${subjectOf(a)}${num(d.seq) !== undefined ? ` (seq ${num(d.seq)})` : ''}${str(d.kid) ? `, key ${str(d.kid)}` : ''} ${what}${str(d.reason) ? `: ${str(d.reason)}` : ''}`,
    a.count && a.count > 1 ? `chipwatch has refused ${a.count} such messages` : undefined,
    'It was refused and stored apart, never used as evidence; repeated, it means someone other than the tracker is publishing in its name',
  );
}

/** One paragraph saying what the alert means, from its details; a generic one when they are not understood. */
export function explainAlert(a: ExplainableAlert): string {
  const d = isObj(a.details) ? a.details : {};
  let text: string | undefined;
  try {
    text = EXPLAIN[a.type]?.(d, a);
  } catch {
    text = undefined; // details of an unexpected shape: fall back rather than fail the page or the e-mail
  }
  return (
    text ??
    sentences(
      `chipwatch raised “${typeWords(a.type)}” for ${subjectOf(a)}`,
      `Its details are not in a form this version explains: read them in full below${str(d.reason) ? ` (reason: ${str(d.reason)})` : ''}`,
    )
  );
}

/** The alert types this file explains (the domain's closed set, checked by its test). */
export const EXPLAINED_TYPES = Object.keys(EXPLAIN);
