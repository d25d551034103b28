/**
 * HubSpot's daily API quota resets at midnight in the account's time zone
 * (https://developers.hubspot.com/docs/api/usage-details#rate-limits). The account's zone is not
 * in the API answers, so it comes from `settings.timeZone`.
 */

/** Offset of `timeZone` from UTC at `at`, in ms (positive east of Greenwich). */
function zoneOffsetMs(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

/**
 * The first midnight in `timeZone` after `now`.
 *
 * @example nextMidnight(new Date('2026-11-22T23:30:00Z'), 'Europe/Berlin') // 2026-11-22T23:00:00.000Z
 */
export function nextMidnight(now: Date, timeZone: string): Date {
  const offset = zoneOffsetMs(now, timeZone);
  const wall = new Date(now.getTime() + offset);
  const nextWallMidnight = Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate() + 1);
  // The offset at midnight can differ from now's (a DST change in between): settle it twice.
  let guess = nextWallMidnight - offset;
  for (let i = 0; i < 2; i++) guess = nextWallMidnight - zoneOffsetMs(new Date(guess), timeZone);
  return new Date(guess);
}

export function msUntilNextMidnight(now: Date, timeZone: string): number {
  return Math.max(1000, nextMidnight(now, timeZone).getTime() - now.getTime());
}
