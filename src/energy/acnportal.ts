// Converts acnportal's tariff JSON (as in ../shared/data/tariffs) into our Tariff.
import type { DaySet, DemandChargeRule, Tariff, TouRule } from './tariff.ts';

export interface AcnportalSchedule {
  readonly id?: string;
  readonly effective_start: string;
  readonly effective_end: string;
  readonly dow_mask: 'WEEKDAYS' | 'WEEKENDS' | 'ALL';
  /** Local hour of day (may be fractional, 8.5 = 08:30) at which each price starts. */
  readonly times: readonly number[];
  readonly tariffs: readonly number[];
  readonly demand_charge: number;
}

export interface AcnportalTariff {
  readonly name: string;
  readonly schedule: readonly AcnportalSchedule[];
}

const daySets: Readonly<Record<string, DaySet>> = { WEEKDAYS: 'weekdays', WEEKENDS: 'weekends', ALL: 'all' };

function clock(hours: number): string {
  const minutes = Math.round(hours * 60);
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function monthDay(text: string): string {
  const [month, day] = text.split('-');
  return `${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
}

/** acnportal prices are in USD; its schedules list the seasons in order, which our first-match rules keep. */
export function fromAcnportal(source: AcnportalTariff): Tariff {
  const rules: TouRule[] = [];
  const demandCharges: DemandChargeRule[] = [];
  for (const entry of source.schedule) {
    const dates = { from: monthDay(entry.effective_start), to: monthDay(entry.effective_end) };
    const days = daySets[entry.dow_mask];
    if (!days) throw new Error(`schedule ${entry.id ?? '?'}: unknown dow_mask ${entry.dow_mask}`);
    if (entry.times.length !== entry.tariffs.length) throw new Error(`schedule ${entry.id ?? '?'}: times and tariffs differ in length`);
    entry.times.forEach((start, k) => {
      const end = k + 1 < entry.times.length ? entry.times[k + 1] : 24;
      rules.push({ dates, days, from: clock(start), to: clock(end), pricePerKwh: entry.tariffs[k] });
    });
    if (!demandCharges.some((d) => d.dates?.from === dates.from && d.dates.to === dates.to)) {
      demandCharges.push({ dates, pricePerKw: entry.demand_charge });
    }
  }
  return { name: source.name, currency: 'USD', defaultPricePerKwh: 0, rules, demandCharges };
}
