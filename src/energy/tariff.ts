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

const formatters = new Map<string, Intl.DateTimeFormat>();
/** UTC offset (ms) per zone and quarter hour of UTC: zones change offset only on quarter-hour instants. */
const offsets = new Map<string, Map<number, number>>();
const quarterMs = 900_000;

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** Local wall time minus UTC at an instant, ms; Intl is the costly part, so it runs once per zone and quarter hour. */
function offsetAt(timeZone: string, ms: number): number {
  let byQuarter = offsets.get(timeZone);
  if (!byQuarter) { byQuarter = new Map(); offsets.set(timeZone, byQuarter); }
  const quarter = Math.floor(ms / quarterMs);
  let offset = byQuarter.get(quarter);
  if (offset === undefined) {
    const at = quarter * quarterMs;
    const f: Record<string, number> = {};
    for (const part of formatterFor(timeZone).formatToParts(at)) if (part.type !== 'literal') f[part.type] = Number(part.value);
    offset = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) - at;
    // Bounded memory for a long-running server: a year of quarters per zone is ~35k entries.
    if (byQuarter.size > 50_000) byQuarter.clear();
    byQuarter.set(quarter, offset);
  }
  return offset;
}

/** Builds a converter from instants to local wall time in an IANA zone. */
export function localTimeIn(timeZone: string): (ms: number) => LocalTime {
  formatterFor(timeZone);
  return (ms) => {
    const wall = new Date(ms + offsetAt(timeZone, ms));
    return {
      year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate(), weekday: wall.getUTCDay(),
      minuteOfDay: wall.getUTCHours() * 60 + wall.getUTCMinutes(),
    };
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
