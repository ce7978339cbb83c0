// The scenario file format (docs/scenario-format.md): a depot, its circuits and chargers, a fleet with battery data,
// sessions (plugged now or expected from the schedule), a tariff and the planning policy. parseScenario validates
// already-parsed JSON and turns it into a planner snapshot; it does no I/O, so the simulator and tests can share it.
import { isValidTimeZone, parseClock, parseMonthDay, type DaySet, type Tariff, type TouRule, type DemandChargeRule } from '../energy/tariff.ts';
import type { ChargerSpec, CircuitSpec, DepotSnapshot, LoadForecastStep, SessionSpec, TaperPoint } from '../planner/types.ts';
import { yardChargerSpecs } from '../planner/yard/model.ts';
import { connectorTypes, type Bay, type ConnectorType, type MovePolicy, type YardCharger, type YardSnapshot, type YardVehicle } from '../planner/yard/types.ts';

export const scenarioFormat = 'voltyard-scenario/1';

/** Bad scenario input; `path` names the field, e.g. `chargers[3].maxPowerKw`. */
export class ScenarioError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}

export interface VehicleSpec {
  readonly id: string;
  readonly batteryKwh: number;
  readonly acMaxPowerKw: number;
  readonly dcMaxPowerKw: number;
  readonly taper?: readonly TaperPoint[];
  /** Inlets (yard form); default CCS2 and Type 2. */
  readonly connectorTypes?: readonly ConnectorType[];
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly nowMs: number;
  readonly vehicles: readonly VehicleSpec[];
  /** The energy planner's snapshot; in the yard form its sessions are empty (the yard planner makes them). */
  readonly snapshot: DepotSnapshot;
  /** Present in the yard form (a `yard` section): the yard planner's input. */
  readonly yard?: YardSnapshot;
}

type Obj = Record<string, unknown>;

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ScenarioError(path, 'must be an object');
  return v as Obj;
}
function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new ScenarioError(path, 'must be an array');
  return v;
}
function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new ScenarioError(path, 'must be a non-empty string');
  return v;
}
function num(v: unknown, path: string, rule: 'positive' | 'nonNegative' | 'any' = 'any'): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ScenarioError(path, 'must be a number');
  if (rule === 'positive' && !(v > 0)) throw new ScenarioError(path, 'must be a positive number');
  if (rule === 'nonNegative' && v < 0) throw new ScenarioError(path, 'must be a number ≥ 0');
  return v;
}
function percent(v: unknown, path: string): number {
  const x = num(v, path);
  if (x < 0 || x > 100) throw new ScenarioError(path, 'must be a percentage from 0 to 100');
  return x;
}
function instant(v: unknown, path: string): number {
  const text = str(v, path);
  // Instants must carry their offset: a bare local time would be read in whatever zone the machine runs in.
  if (!/(Z|[+-]\d\d:\d\d)$/.test(text)) throw new ScenarioError(path, 'must be an ISO 8601 instant with Z or an offset');
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ScenarioError(path, 'must be an ISO 8601 instant');
  return ms;
}
function optional<T>(o: Obj, key: string, path: string, read: (v: unknown, path: string) => T): T | undefined {
  return o[key] === undefined ? undefined : read(o[key], `${path}.${key}`);
}
function oneOf<T extends string>(v: unknown, path: string, options: readonly T[]): T {
  if (typeof v !== 'string' || !options.includes(v as T)) throw new ScenarioError(path, `must be one of ${options.map((o) => `"${o}"`).join(', ')}`);
  return v as T;
}
function unique(ids: string[], path: string): void {
  const seen = new Set<string>();
  ids.forEach((id, k) => {
    if (seen.has(id)) throw new ScenarioError(`${path}[${k}].id`, `duplicate id "${id}"`);
    seen.add(id);
  });
}

function parseTaper(v: unknown, path: string): TaperPoint[] {
  return arr(v, path).map((p, k) => {
    const o = obj(p, `${path}[${k}]`);
    return { socPercent: percent(o.socPercent, `${path}[${k}].socPercent`), maxPowerKw: num(o.maxPowerKw, `${path}[${k}].maxPowerKw`, 'positive') };
  });
}

function dateRange(v: unknown, path: string) {
  const o = obj(v, path);
  const from = str(o.from, `${path}.from`);
  const to = str(o.to, `${path}.to`);
  if (Number.isNaN(parseMonthDay(from))) throw new ScenarioError(`${path}.from`, 'must be "MM-DD"');
  if (Number.isNaN(parseMonthDay(to))) throw new ScenarioError(`${path}.to`, 'must be "MM-DD"');
  return { from, to };
}

export function parseTariff(v: unknown, path: string): Tariff {
  const o = obj(v, path);
  const rules: TouRule[] = arr(o.rules ?? [], `${path}.rules`).map((r, k) => {
    const rp = `${path}.rules[${k}]`;
    const ro = obj(r, rp);
    const from = str(ro.from, `${rp}.from`);
    const to = str(ro.to, `${rp}.to`);
    if (Number.isNaN(parseClock(from))) throw new ScenarioError(`${rp}.from`, 'must be "HH:MM"');
    if (Number.isNaN(parseClock(to))) throw new ScenarioError(`${rp}.to`, 'must be "HH:MM" (up to "24:00")');
    return {
      from, to, pricePerKwh: num(ro.pricePerKwh, `${rp}.pricePerKwh`, 'nonNegative'),
      ...(ro.days !== undefined ? { days: oneOf<DaySet>(ro.days, `${rp}.days`, ['all', 'weekdays', 'weekends']) } : {}),
      ...(ro.dates !== undefined ? { dates: dateRange(ro.dates, `${rp}.dates`) } : {}),
    };
  });
  const demandCharges: DemandChargeRule[] = arr(o.demandCharges ?? [], `${path}.demandCharges`).map((d, k) => {
    const dp = `${path}.demandCharges[${k}]`;
    const dobj = obj(d, dp);
    return { pricePerKw: num(dobj.pricePerKw, `${dp}.pricePerKw`, 'nonNegative'), ...(dobj.dates !== undefined ? { dates: dateRange(dobj.dates, `${dp}.dates`) } : {}) };
  });
  return {
    ...(o.name !== undefined ? { name: str(o.name, `${path}.name`) } : {}),
    currency: str(o.currency, `${path}.currency`),
    defaultPricePerKwh: num(o.defaultPricePerKwh, `${path}.defaultPricePerKwh`, 'nonNegative'),
    rules, demandCharges,
  };
}

/** Validates a parsed scenario file; throws ScenarioError naming the first bad field. */
export function parseScenario(input: unknown): Scenario {
  const root = obj(input, '(scenario)');
  if (root.format !== scenarioFormat) throw new ScenarioError('format', `must be "${scenarioFormat}"`);
  const nowMs = instant(root.now, 'now');
  const depot = obj(root.depot, 'depot');
  const timeZone = str(depot.timeZone, 'depot.timeZone');
  if (!isValidTimeZone(timeZone)) throw new ScenarioError('depot.timeZone', `unknown IANA time zone "${timeZone}"`);
  const slotMinutes = depot.slotMinutes === undefined ? 15 : num(depot.slotMinutes, 'depot.slotMinutes');
  if (!Number.isInteger(slotMinutes) || slotMinutes < 1 || slotMinutes > 60) throw new ScenarioError('depot.slotMinutes', 'must be an integer from 1 to 60');
  const otherLoadKw: LoadForecastStep[] = arr(depot.otherLoadKw ?? [], 'depot.otherLoadKw').map((s, k) => {
    const o = obj(s, `depot.otherLoadKw[${k}]`);
    return { fromMs: instant(o.from, `depot.otherLoadKw[${k}].from`), loadKw: num(o.loadKw, `depot.otherLoadKw[${k}].loadKw`, 'nonNegative') };
  });
  otherLoadKw.forEach((s, k) => {
    if (k > 0 && s.fromMs <= otherLoadKw[k - 1].fromMs) throw new ScenarioError(`depot.otherLoadKw[${k}].from`, 'must be later than the previous step');
  });

  const circuits: CircuitSpec[] = arr(root.circuits, 'circuits').map((c, k) => {
    const o = obj(c, `circuits[${k}]`);
    const parentId = o.parentId === null || o.parentId === undefined ? null : str(o.parentId, `circuits[${k}].parentId`);
    return { id: str(o.id, `circuits[${k}].id`), parentId, maxPowerKw: num(o.maxPowerKw, `circuits[${k}].maxPowerKw`, 'positive') };
  });
  unique(circuits.map((c) => c.id), 'circuits');
  const circuitIds = new Set(circuits.map((c) => c.id));
  circuits.forEach((c, k) => {
    if (c.parentId !== null && !circuitIds.has(c.parentId)) throw new ScenarioError(`circuits[${k}].parentId`, `unknown circuit "${c.parentId}"`);
  });
  const roots = circuits.filter((c) => c.parentId === null).length;
  if (roots !== 1) throw new ScenarioError('circuits', `must have exactly one root (parentId null), found ${roots}`);

  const yardForm = root.yard !== undefined;
  const yardChargers: YardCharger[] = [];
  const bayIds = new Set<string>();
  const chargers: ChargerSpec[] = arr(root.chargers, 'chargers').map((c, k) => {
    const p = `chargers[${k}]`;
    const o = obj(c, p);
    const circuitId = str(o.circuitId, `${p}.circuitId`);
    if (!circuitIds.has(circuitId)) throw new ScenarioError(`${p}.circuitId`, `unknown circuit "${circuitId}"`);
    const kind = oneOf(o.kind, `${p}.kind`, ['AC', 'DC'] as const);
    const maxPowerKw = num(o.maxPowerKw, `${p}.maxPowerKw`, 'positive');
    const minPowerKw = optional(o, 'minPowerKw', p, (v, q) => num(v, q, 'nonNegative'));
    if (minPowerKw !== undefined && kind !== 'AC') throw new ScenarioError(`${p}.minPowerKw`, 'only AC chargers have a minimum power');
    if (minPowerKw !== undefined && minPowerKw > maxPowerKw) throw new ScenarioError(`${p}.minPowerKw`, 'must not exceed maxPowerKw');
    const phases = o.phases === undefined ? undefined : (oneOf(String(o.phases), `${p}.phases`, ['1', '3']) === '1' ? 1 : 3);
    if (o.bays !== undefined && !yardForm) throw new ScenarioError(`${p}.bays`, 'only in the yard form (a "yard" section)');
    const id = str(o.id, `${p}.id`);
    if (yardForm) {
      // One bay with the charger's id and the usual connector of its kind, unless the bays are listed.
      const bays: Bay[] = o.bays === undefined
        ? [{ id, type: kind === 'AC' ? 'Type2' : 'CCS2', maxPowerKw, ...(minPowerKw !== undefined ? { minPowerKw } : {}) }]
        : arr(o.bays, `${p}.bays`).map((b, j) => parseBay(b, `${p}.bays[${j}]`, kind));
      if (bays.length === 0) throw new ScenarioError(`${p}.bays`, 'needs at least one bay');
      bays.forEach((b, j) => {
        if (bayIds.has(b.id)) throw new ScenarioError(`${p}.bays[${j}].id`, `duplicate bay id "${b.id}"`);
        bayIds.add(b.id);
      });
      yardChargers.push({ id, circuitId, kind, maxPowerKw, ...(phases ? { phases } : {}), bays });
    }
    return { id, circuitId, kind, maxPowerKw, ...(minPowerKw !== undefined ? { minPowerKw } : {}), ...(phases ? { phases } : {}) };
  });
  unique(chargers.map((c) => c.id), 'chargers');
  const chargerById = new Map(chargers.map((c) => [c.id, c]));

  const vehicles: VehicleSpec[] = arr(root.vehicles ?? [], 'vehicles').map((v, k) => {
    const p = `vehicles[${k}]`;
    const o = obj(v, p);
    const taper = optional(o, 'taper', p, parseTaper);
    const inlets = optional(o, 'connectorTypes', p, (v, q) => arr(v, q).map((t, j) => oneOf(t, `${q}[${j}]`, connectorTypes)));
    return {
      id: str(o.id, `${p}.id`), batteryKwh: num(o.batteryKwh, `${p}.batteryKwh`, 'positive'),
      acMaxPowerKw: num(o.acMaxPowerKw, `${p}.acMaxPowerKw`, 'positive'), dcMaxPowerKw: num(o.dcMaxPowerKw, `${p}.dcMaxPowerKw`, 'positive'),
      ...(taper ? { taper } : {}), ...(inlets ? { connectorTypes: inlets } : {}),
    };
  });
  unique(vehicles.map((v) => v.id), 'vehicles');
  const vehicleById = new Map(vehicles.map((v) => [v.id, v]));

  const flag = (v: unknown, path: string): boolean => {
    if (typeof v !== 'boolean') throw new ScenarioError(path, 'must be true or false');
    return v;
  };
  if (yardForm && root.sessions !== undefined && arr(root.sessions, 'sessions').length > 0) {
    throw new ScenarioError('sessions', 'the yard form plans its own sessions: list vehicles in yard.vehicles instead');
  }
  const sessions: SessionSpec[] = arr(root.sessions ?? (yardForm ? [] : undefined), 'sessions').map((s, k) => {
    const p = `sessions[${k}]`;
    const o = obj(s, p);
    const chargerId = str(o.chargerId, `${p}.chargerId`);
    const charger = chargerById.get(chargerId);
    if (!charger) throw new ScenarioError(`${p}.chargerId`, `unknown charger "${chargerId}"`);
    const vehicleId = optional(o, 'vehicleId', p, str);
    const vehicle = vehicleId === undefined ? undefined : vehicleById.get(vehicleId);
    if (vehicleId !== undefined && !vehicle) throw new ScenarioError(`${p}.vehicleId`, `unknown vehicle "${vehicleId}"`);
    const arrivalMs = optional(o, 'arrival', p, instant);
    const departureMs = instant(o.departure, `${p}.departure`);
    if (departureMs <= (arrivalMs ?? nowMs)) throw new ScenarioError(`${p}.departure`, 'must be after the arrival (or now)');
    const energyNeededKwh = optional(o, 'energyNeededKwh', p, (v, q) => num(v, q, 'nonNegative'));
    const socPercent = optional(o, 'socPercent', p, percent);
    const targetSocPercent = optional(o, 'targetSocPercent', p, percent) ?? 100;
    const known = vehicle !== undefined || energyNeededKwh !== undefined;
    if (vehicle && socPercent === undefined && energyNeededKwh === undefined) throw new ScenarioError(`${p}.socPercent`, 'is required when the need is not given as energyNeededKwh');
    const vehicleMaxPowerKw = optional(o, 'vehicleMaxPowerKw', p, (v, q) => num(v, q, 'positive'))
      ?? (vehicle ? (charger.kind === 'AC' ? vehicle.acMaxPowerKw : vehicle.dcMaxPowerKw) : undefined);
    return {
      id: str(o.id, `${p}.id`), kind: arrivalMs !== undefined && arrivalMs > nowMs ? 'expected' : 'plugged', chargerId,
      known, departureMs,
      ...(vehicleId !== undefined ? { vehicleId } : {}),
      ...(arrivalMs !== undefined ? { arrivalMs } : {}),
      ...(energyNeededKwh !== undefined ? { energyNeededKwh } : {}),
      ...(vehicle && socPercent !== undefined ? { battery: { capacityKwh: vehicle.batteryKwh, socPercent, targetSocPercent } } : {}),
      ...(vehicleMaxPowerKw !== undefined ? { vehicleMaxPowerKw } : {}),
      ...(vehicle?.taper ? { taper: vehicle.taper } : {}),
      ...(o.priority !== undefined ? { priority: num(o.priority, `${p}.priority`) } : {}),
      ...(o.departureEstimated !== undefined ? { departureEstimated: flag(o.departureEstimated, `${p}.departureEstimated`) } : {}),
    };
  });
  unique(sessions.map((s) => s.id), 'sessions');
  // One vehicle per charger at a time: the charger's limit is only enforced through its single session.
  const byCharger = new Map<string, number[]>();
  sessions.forEach((s, k) => {
    const from = Math.max(nowMs, s.arrivalMs ?? nowMs);
    for (const j of byCharger.get(s.chargerId) ?? []) {
      const o = sessions[j];
      if (from < o.departureMs && Math.max(nowMs, o.arrivalMs ?? nowMs) < s.departureMs) {
        throw new ScenarioError(`sessions[${k}].chargerId`, `charger "${s.chargerId}" is already used by sessions[${j}] at that time`);
      }
    }
    byCharger.set(s.chargerId, [...(byCharger.get(s.chargerId) ?? []), k]);
  });

  const policyIn = root.policy === undefined ? {} : obj(root.policy, 'policy');
  const policy = {
    ...(policyIn.minSocPercent !== undefined ? { minSocPercent: percent(policyIn.minSocPercent, 'policy.minSocPercent') } : {}),
    ...(policyIn.earlyShare !== undefined ? { earlyShare: percent(Number(policyIn.earlyShare) * 100, 'policy.earlyShare') / 100 } : {}),
    ...(policyIn.unknownVehicleEnergyKwh !== undefined ? { unknownVehicleEnergyKwh: num(policyIn.unknownVehicleEnergyKwh, 'policy.unknownVehicleEnergyKwh', 'nonNegative') } : {}),
    ...(policyIn.unannouncedArrivals !== undefined ? { unannouncedArrivals: flag(policyIn.unannouncedArrivals, 'policy.unannouncedArrivals') } : {}),
  };
  const base = {
    depotId: str(depot.id, 'depot.id'), timeZone, slotMinutes,
    gridLimitKw: num(depot.gridLimitKw, 'depot.gridLimitKw', 'positive'),
    peakSoFarKw: depot.peakSoFarKw === undefined ? 0 : num(depot.peakSoFarKw, 'depot.peakSoFarKw', 'nonNegative'),
    otherLoadKw, tariff: parseTariff(root.tariff, 'tariff'), policy,
  };
  let yard: YardSnapshot | undefined;
  let snapshot: DepotSnapshot = { ...base, circuits, chargers, sessions };
  if (yardForm) {
    yard = { ...base, circuits, chargers: yardChargers, ...parseYard(root.yard, nowMs, vehicleById, yardChargers) };
    const flat = yardChargerSpecs(circuits, yardChargers);
    unique(flat.circuits.map((c) => c.id), 'circuits');
    snapshot = { ...base, circuits: flat.circuits, chargers: flat.chargers, sessions: [] };
  }
  return {
    name: root.name === undefined ? snapshot.depotId : str(root.name, 'name'),
    description: root.description === undefined ? '' : str(root.description, 'description'),
    nowMs, vehicles, snapshot, ...(yard ? { yard } : {}),
  };
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new ScenarioError(path, 'must be true or false');
  return v;
}

function parseBay(v: unknown, path: string, kind: 'AC' | 'DC'): Bay {
  const o = obj(v, path);
  const maxPowerKw = num(o.maxPowerKw, `${path}.maxPowerKw`, 'positive');
  const minPowerKw = optional(o, 'minPowerKw', path, (x, q) => num(x, q, 'nonNegative'));
  if (minPowerKw !== undefined && kind !== 'AC') throw new ScenarioError(`${path}.minPowerKw`, 'only AC bays have a minimum power');
  if (minPowerKw !== undefined && minPowerKw > maxPowerKw) throw new ScenarioError(`${path}.minPowerKw`, 'must not exceed maxPowerKw');
  return { id: str(o.id, `${path}.id`), type: oneOf(o.type, `${path}.type`, connectorTypes), maxPowerKw, ...(minPowerKw !== undefined ? { minPowerKw } : {}) };
}

const movePolicyNumbers = ['movesPerShift', 'people', 'minMinutesBetweenMoves', 'noMoveBeforeDepartureMinutes', 'minGainKwhPerMove'] as const;

function parseMovePolicy(v: unknown, path: string): Partial<MovePolicy> {
  const o = obj(v, path);
  const out: { -readonly [K in keyof MovePolicy]?: MovePolicy[K] } = {};
  for (const key of Object.keys(o)) {
    if (key === 'shiftStarts') {
      const starts = arr(o.shiftStarts, `${path}.shiftStarts`).map((t, k) => {
        const text = str(t, `${path}.shiftStarts[${k}]`);
        const m = parseClock(text);
        if (Number.isNaN(m) || m >= 24 * 60) throw new ScenarioError(`${path}.shiftStarts[${k}]`, 'must be "HH:MM" before 24:00');
        return text;
      });
      if (starts.length === 0) throw new ScenarioError(`${path}.shiftStarts`, 'needs at least one "HH:MM"');
      out.shiftStarts = starts;
    } else if ((movePolicyNumbers as readonly string[]).includes(key)) {
      const value = num(o[key], `${path}.${key}`, key === 'people' ? 'positive' : 'nonNegative');
      if ((key === 'people' || key === 'movesPerShift') && !Number.isInteger(value)) throw new ScenarioError(`${path}.${key}`, 'must be a whole number');
      out[key as typeof movePolicyNumbers[number]] = value;
    } else throw new ScenarioError(`${path}.${key}`, `unknown field (one of shiftStarts, ${movePolicyNumbers.join(', ')})`);
  }
  return out;
}

/** The yard section: which vehicles are where (a bay, the lot, or expected back) and the move policy. */
function parseYard(v: unknown, nowMs: number, fleet: ReadonlyMap<string, VehicleSpec>, chargers: readonly YardCharger[]): Pick<YardSnapshot, 'vehicles' | 'movePolicy' | 'movesDoneThisShift'> {
  const o = obj(v, 'yard');
  const bayIds = new Set(chargers.flatMap((c) => c.bays.map((b) => b.id)));
  const taken = new Map<string, number>();
  const vehicles: YardVehicle[] = arr(o.vehicles, 'yard.vehicles').map((x, k) => {
    const p = `yard.vehicles[${k}]`;
    const e = obj(x, p);
    const vehicleId = str(e.vehicleId, `${p}.vehicleId`);
    const spec = fleet.get(vehicleId);
    if (!spec) throw new ScenarioError(`${p}.vehicleId`, `unknown vehicle "${vehicleId}" (list it in vehicles)`);
    const departureMs = instant(e.departure, `${p}.departure`);
    const arrivalMs = optional(e, 'arrival', p, instant);
    const bayId = optional(e, 'bayId', p, str);
    if (bayId !== undefined && !bayIds.has(bayId)) throw new ScenarioError(`${p}.bayId`, `unknown bay "${bayId}"`);
    if (bayId !== undefined && taken.has(bayId)) throw new ScenarioError(`${p}.bayId`, `bay "${bayId}" is already taken by yard.vehicles[${taken.get(bayId)}]`);
    if (bayId !== undefined) taken.set(bayId, k);
    if (bayId !== undefined && arrivalMs !== undefined && arrivalMs > nowMs) throw new ScenarioError(`${p}.arrival`, 'a vehicle on a bay is already here (arrival must not be after now)');
    if (departureMs <= Math.max(nowMs, arrivalMs ?? nowMs)) throw new ScenarioError(`${p}.departure`, 'must be after the arrival (or now)');
    const energyNeededKwh = optional(e, 'energyNeededKwh', p, (q, path) => num(q, path, 'nonNegative'));
    const socPercent = optional(e, 'socPercent', p, percent);
    const targetSocPercent = optional(e, 'targetSocPercent', p, percent) ?? 100;
    if (socPercent === undefined && energyNeededKwh === undefined) throw new ScenarioError(`${p}.socPercent`, 'is required when the need is not given as energyNeededKwh');
    const plannedBayId = optional(e, 'plannedBayId', p, str);
    if (plannedBayId !== undefined && !bayIds.has(plannedBayId)) throw new ScenarioError(`${p}.plannedBayId`, `unknown bay "${plannedBayId}"`);
    const location: YardVehicle['location'] = bayId !== undefined ? { kind: 'bay', bayId }
      : arrivalMs !== undefined && arrivalMs >= nowMs ? { kind: 'expected', arrivalMs } : { kind: 'lot' };
    return {
      id: vehicleId, location, departureMs,
      ...(energyNeededKwh !== undefined ? { energyNeededKwh } : {}),
      ...(socPercent !== undefined ? { battery: { capacityKwh: spec.batteryKwh, socPercent, targetSocPercent } } : {}),
      connectorTypes: spec.connectorTypes ?? ['CCS2', 'Type2'],
      acMaxPowerKw: spec.acMaxPowerKw, dcMaxPowerKw: spec.dcMaxPowerKw,
      ...(spec.taper ? { taper: spec.taper } : {}),
      ...(e.priority !== undefined ? { priority: num(e.priority, `${p}.priority`) } : {}),
      ...(e.departureEstimated !== undefined ? { departureEstimated: bool(e.departureEstimated, `${p}.departureEstimated`) } : {}),
      ...(plannedBayId !== undefined ? { plannedBayId } : {}),
    };
  });
  unique(vehicles.map((x) => x.id), 'yard.vehicles');
  const movesDone = o.movesDoneThisShift === undefined ? undefined : num(o.movesDoneThisShift, 'yard.movesDoneThisShift', 'nonNegative');
  return {
    vehicles,
    ...(o.movePolicy !== undefined ? { movePolicy: parseMovePolicy(o.movePolicy, 'yard.movePolicy') } : {}),
    ...(movesDone !== undefined ? { movesDoneThisShift: movesDone } : {}),
  };
}
