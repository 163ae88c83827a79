// Times for readers outside the team (customer messages) in the zone the team configured; the
// record, --json and reports stay UTC.

/** The zone's short name: "CET", "EST", else "GMT+9" where no abbreviation is in common use. */
function zoneName(date: Date, timeZone: string): string {
  const names = ['en-GB', 'en-US'].map((locale) => new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? timeZone);
  return names.find((n) => !/^GMT[+-]/.test(n)) ?? names[0];
}

/** "2026-11-23 04:34 CET": the wall-clock time in `timeZone` (an IANA name), minutes, zone named. */
export function zonedTime(date: Date, timeZone = 'UTC'): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${zoneName(date, timeZone)}`;
}

/** Whether `name` is a time zone this Node knows (IANA names such as Europe/Berlin, or UTC). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
