// Time-of-use energy prices and demand charges, evaluated in the depot's own time zone.
// Pure: the caller passes instants; nothing here reads the clock.

/** Which days of the week a rule applies to, in the depot's local calendar. */
export type DaySet = 'all' | 'weekdays' | 'weekends';

/** An inclusive local calendar range 'MM-DD'..'MM-DD'; `from` after `to` wraps over the new year. */
export interface DateRange {
  readonly from: string;
  readonly to: string;
}

/** One time-of-use price window. The first matching rule wins. */
export interface TouRule {
  /** Seasons; absent means all year. */
  readonly dates?: DateRange;
  /** Absent means every day. */
  readonly days?: DaySet;
  /** Local clock 'HH:MM', inclusive. */
  readonly from: string;
  /** Local clock 'HH:MM', exclusive; '24:00' is the end of the day; earlier than `from` wraps midnight. */
  readonly to: string;
  readonly pricePerKwh: number;
}

/** A demand charge per kW on the billing month's highest slot-average site power. */
export interface DemandChargeRule {
  readonly dates?: DateRange;
  readonly pricePerKw: number;
}

export interface Tariff {
  readonly name?: string;
  readonly currency: string;
  /** Price when no rule matches. */
  readonly defaultPricePerKwh: number;
  readonly rules: readonly TouRule[];
  /** First matching rule for the billing month wins; none means no demand charge. */
  readonly demandCharges: readonly DemandChargeRule[];
}

/** The wall-clock view of an instant in a time zone. */
export interface LocalTime {
  readonly year: number;
  readonly month: number; // 1..12
  readonly day: number;
  /** 0 = Sunday .. 6 = Saturday */
  readonly weekday: number;
  readonly minuteOfDay: number;
}

const weekdayIndex: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Builds a converter from instants to local wall time; build it once per plan, it is the costly part. */
export function localTimeIn(timeZone: string): (ms: number) => LocalTime {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric', weekday: 'short',
  });
  return (ms) => {
    let year = 0, month = 0, day = 0, hour = 0, minute = 0, weekday = 0;
    for (const part of format.formatToParts(ms)) {
      switch (part.type) {
        case 'year': year = Number(part.value); break;
        case 'month': month = Number(part.value); break;
        case 'day': day = Number(part.value); break;
        case 'hour': hour = Number(part.value); break;
        case 'minute': minute = Number(part.value); break;
        case 'weekday': weekday = weekdayIndex[part.value] ?? 0; break;
      }
    }
    return { year, month, day, weekday, minuteOfDay: hour * 60 + minute };
  };
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const clockPattern = /^([01]?\d|2[0-4]):([0-5]\d)$/;
const datePattern = /^(\d{1,2})-(\d{1,2})$/;

/** Minutes after local midnight for 'HH:MM' (up to '24:00'), or NaN. */
export function parseClock(text: string): number {
  const m = clockPattern.exec(text);
  if (!m) return Number.NaN;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  return minutes <= 24 * 60 ? minutes : Number.NaN;
}

/** 'MM-DD' as month * 100 + day, or NaN. */
export function parseMonthDay(text: string): number {
  const m = datePattern.exec(text);
  if (!m) return Number.NaN;
  const month = Number(m[1]);
  const day = Number(m[2]);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 ? month * 100 + day : Number.NaN;
}

function inDates(range: DateRange | undefined, local: LocalTime): boolean {
  if (!range) return true;
  const key = local.month * 100 + local.day;
  const from = parseMonthDay(range.from);
  const to = parseMonthDay(range.to);
  return from <= to ? key >= from && key <= to : key >= from || key <= to;
}

function inDays(days: DaySet | undefined, local: LocalTime): boolean {
  if (!days || days === 'all') return true;
  const weekend = local.weekday === 0 || local.weekday === 6;
  return days === 'weekends' ? weekend : !weekend;
}

function inClock(rule: TouRule, minuteOfDay: number): boolean {
  const from = parseClock(rule.from);
  const to = parseClock(rule.to);
  return from <= to ? minuteOfDay >= from && minuteOfDay < to : minuteOfDay >= from || minuteOfDay < to;
}

/** The energy price at a local time. */
export function priceAtLocal(tariff: Tariff, local: LocalTime): number {
  for (const rule of tariff.rules) {
    if (inDates(rule.dates, local) && inDays(rule.days, local) && inClock(rule, local.minuteOfDay)) return rule.pricePerKwh;
  }
  return tariff.defaultPricePerKwh;
}

/** The demand charge rate (per kW) of the billing month containing a local time. */
export function demandChargeAtLocal(tariff: Tariff, local: LocalTime): number {
  for (const rule of tariff.demandCharges) {
    if (inDates(rule.dates, local)) return rule.pricePerKw;
  }
  return 0;
}

/** Energy price of each slot, taken at the slot's start in the depot time zone. */
export function slotPrices(tariff: Tariff, slotStartsMs: ArrayLike<number>, timeZone: string): Float64Array {
  const toLocal = localTimeIn(timeZone);
  const prices = new Float64Array(slotStartsMs.length);
  for (let t = 0; t < slotStartsMs.length; t++) prices[t] = priceAtLocal(tariff, toLocal(slotStartsMs[t]));
  return prices;
}

/** The billing month (local calendar) of an instant, as 'YYYY-MM'. */
export function billingMonth(ms: number, timeZone: string): string {
  const local = localTimeIn(timeZone)(ms);
  return `${local.year}-${String(local.month).padStart(2, '0')}`;
}
