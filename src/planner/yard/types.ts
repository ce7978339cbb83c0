// The yard planner's public contract (issue 9): which vehicle uses which bay, and when the yard crew swaps one for
// the next. Same units and instants as the energy planner: kW, kWh, epoch milliseconds UTC.
import type { BatteryState, CircuitSpec, DepotSnapshot, LoadForecastStep, Plan, PlannerPolicy, TaperPoint } from '../types.ts';
import type { Tariff } from '../../energy/tariff.ts';

export const connectorTypes = ['CCS1', 'CCS2', 'Type1', 'Type2', 'NACS', 'CHAdeMO'] as const;
export type ConnectorType = typeof connectorTypes[number];

/**
 * A bay: one connector (an OCPP EVSE) a vehicle can be plugged into. Its id is the energy planner's charger id, so a
 * stint on a bay becomes an ordinary planner session on that charger.
 */
export interface Bay {
  readonly id: string;
  readonly type: ConnectorType;
  /** This connector's own limit, kW. */
  readonly maxPowerKw: number;
  /** AC only: off or at least this, kW. */
  readonly minPowerKw?: number;
}

/** A charger (an OCPP station): one or more bays sharing one power budget, on one circuit. */
export interface YardCharger {
  readonly id: string;
  readonly circuitId: string;
  readonly kind: 'AC' | 'DC';
  /** The budget all its bays share, kW (a single-bay charger: the bay's limit). */
  readonly maxPowerKw: number;
  readonly phases?: 1 | 3;
  readonly bays: readonly Bay[];
}

/** Where a vehicle is now. */
export type VehicleLocation =
  | { readonly kind: 'bay'; readonly bayId: string; /** since when, epoch ms */ readonly sinceMs?: number }
  | { readonly kind: 'lot' }
  | { readonly kind: 'expected'; readonly arrivalMs: number };

export interface YardVehicle {
  readonly id: string;
  readonly location: VehicleLocation;
  readonly departureMs: number;
  /** Energy still to deliver; when absent, derived from `battery`. */
  readonly energyNeededKwh?: number;
  readonly battery?: BatteryState;
  /** Inlets the vehicle can use (a CCS2 van can also take Type 2 AC, list both). */
  readonly connectorTypes: readonly ConnectorType[];
  readonly acMaxPowerKw: number;
  readonly dcMaxPowerKw: number;
  readonly taper?: readonly TaperPoint[];
  readonly priority?: number;
  readonly departureEstimated?: boolean;
  /** The bay a driver was told to use at arrival (or the one planned before): kept when nothing better exists. */
  readonly plannedBayId?: string;
}

/** What moving vehicles costs the people who do it. */
export interface MovePolicy {
  /** Yard moves (one unplug-and-plug of a vehicle by the crew) allowed per shift. */
  readonly movesPerShift: number;
  /** Shift start times on the depot's clock, "HH:MM"; a shift runs until the next one starts. */
  readonly shiftStarts: readonly string[];
  /** People doing moves at the same time. */
  readonly people: number;
  /** Minimum minutes between two moves by the same person. */
  readonly minMinutesBetweenMoves: number;
  /** No move of a vehicle planned within this many minutes before its departure. */
  readonly noMoveBeforeDepartureMinutes: number;
  /**
   * The trade-off: a move is worth making only if it brings at least this much energy (kWh) toward readiness.
   * Readiness always wins over moves; among plans with equal readiness, fewer moves win.
   */
  readonly minGainKwhPerMove: number;
}

export interface YardSnapshot extends Omit<DepotSnapshot, 'chargers' | 'sessions'> {
  readonly circuits: readonly CircuitSpec[];
  readonly chargers: readonly YardCharger[];
  readonly vehicles: readonly YardVehicle[];
  readonly otherLoadKw?: readonly LoadForecastStep[];
  readonly tariff: Tariff;
  readonly policy?: Partial<PlannerPolicy>;
  readonly movePolicy?: Partial<MovePolicy>;
  /** Moves already made in the current shift (they count against its budget). */
  readonly movesDoneThisShift?: number;
}

/** One vehicle on one bay for a while: becomes one session of the energy plan. */
export interface Stint {
  readonly vehicleId: string;
  readonly bayId: string;
  readonly fromMs: number;
  /** Unplug time: the vehicle's departure, or earlier when it makes room for the next. */
  readonly toMs: number;
}

/**
 * A task for the yard. `plug`: a vehicle in the lot (or arriving) goes to a bay; `swap`: unplug `out` (done) and plug
 * `vehicleId` into the same bay; `unplug`: free a bay. Ids are stable across re-plans for the same move.
 */
export interface YardTask {
  readonly id: string;
  readonly kind: 'plug' | 'swap' | 'unplug';
  readonly atMs: number;
  readonly vehicleId: string;
  readonly bayId: string;
  readonly from: 'lot' | 'arrival' | { readonly bayId: string };
  /** For a swap: the vehicle that makes room, and when it has what it needs. */
  readonly out?: { readonly vehicleId: string; readonly readyAtMs: number };
  /** Counts against the move budget (a driver plugging in at arrival does not). */
  readonly isMove: boolean;
  /** In words: "23:40 move van-53 from the lot to DC-3 (van-07 done at 23:35)", on the depot's clock. */
  readonly text: string;
}

export interface VehicleOutcome {
  readonly vehicleId: string;
  /** The bay to use at arrival (or now), when it has one. */
  readonly bayId: string | null;
  readonly ready: boolean;
  readonly plannedKwh: number;
  readonly shortfallKwh: number;
  readonly departureMs: number;
  readonly trace: readonly string[];
}

export interface YardPlan {
  readonly depotId: string;
  readonly nowMs: number;
  readonly stints: readonly Stint[];
  readonly tasks: readonly YardTask[];
  readonly vehicles: readonly VehicleOutcome[];
  /** The joint energy plan over the stints (one session per stint, id `${vehicleId}@${bayId}`). */
  readonly energy: Plan;
  readonly moves: number;
  readonly readyCount: number;
  /** The depot's IANA zone, for clock times read from the plan (the kiosk's answer). */
  readonly timeZone?: string;
}

/** The kiosk's answer to "which bay?" for one vehicle. */
export interface BayAnswer {
  readonly vehicleId: string;
  /** `plug`: plug into `bayId` now (or at arrival); `stay`: already on it; `wait`: park in the lot (the crew moves it at `atMs`, if planned). */
  readonly action: 'plug' | 'stay' | 'wait' | 'unknown';
  readonly bayId: string | null;
  readonly atMs: number | null;
  readonly text: string;
}
