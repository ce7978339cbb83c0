// The planner's public contract: what the control loop hands in (DepotSnapshot) and gets back (Plan).
// Power in kW, energy in kWh, instants in epoch milliseconds UTC.
import type { Tariff } from '../energy/tariff.ts';

/** A feeder, panel or the grid connection itself. Exactly one circuit has no parent: the root (grid connection). */
export interface CircuitSpec {
  readonly id: string;
  readonly parentId: string | null;
  /** Limit on the sum of everything below this circuit, kW. */
  readonly maxPowerKw: number;
}

export interface ChargerSpec {
  readonly id: string;
  readonly circuitId: string;
  readonly kind: 'AC' | 'DC';
  readonly maxPowerKw: number;
  /** AC only: a session is either off or at least this (e.g. 6 A × 3 phases × 230 V ≈ 4.1 kW). */
  readonly minPowerKw?: number;
  readonly phases?: 1 | 3;
}

/** Max charge power by state of charge, as (socPercent, maxPowerKw) points, linearly interpolated; applied conservatively. */
export interface TaperPoint {
  readonly socPercent: number;
  readonly maxPowerKw: number;
}

/** What the planner knows about the battery, when it knows it. */
export interface BatteryState {
  readonly capacityKwh: number;
  readonly socPercent: number;
  readonly targetSocPercent: number;
}

/** A vehicle on a connector now (`kind: 'plugged'`) or expected back from its schedule (`kind: 'expected'`). */
export interface SessionSpec {
  readonly id: string;
  readonly kind: 'plugged' | 'expected';
  readonly chargerId: string;
  readonly vehicleId?: string;
  /** False when nobody told us which vehicle this is: the need comes from policy.unknownVehicleEnergyKwh. */
  readonly known: boolean;
  /** For expected sessions: when the vehicle plugs in. Plugged sessions are available from `now`. */
  readonly arrivalMs?: number;
  readonly departureMs: number;
  /** Energy still to deliver. When absent, derived from `battery` (capacity × (target − soc)). */
  readonly energyNeededKwh?: number;
  readonly battery?: BatteryState;
  /** The vehicle's own charge power limit (on-board charger for AC), kW. */
  readonly vehicleMaxPowerKw?: number;
  readonly taper?: readonly TaperPoint[];
  /** Higher is served first when not everyone can be ready. Default 0. */
  readonly priority?: number;
  /**
   * True when `departureMs` is only an estimate (a driver's declaration, not a fleet schedule): the vehicle may leave
   * earlier, so its need is delivered as early as the physical limits allow, never held back for price or demand
   * charge (unless that would cost a firm departure). Default false.
   */
  readonly departureEstimated?: boolean;
}

/** Other site load (building) from `fromMs` until the next entry, kW. */
export interface LoadForecastStep {
  readonly fromMs: number;
  readonly loadKw: number;
}

export interface PlannerPolicy {
  /** Every vehicle should reach this SoC as early as possible before the rest is scheduled for cost. 0 = off. */
  readonly minSocPercent: number;
  /** Need assumed for an unknown vehicle, kWh. */
  readonly unknownVehicleEnergyKwh: number;
  /**
   * Share (0..1) of every session's need delivered as early as possible, like the minimum SoC. A hedge for when
   * declared departures are unreliable: energy already delivered cannot be lost to an early departure. Default 0.
   */
  readonly earlyShare: number;
  /**
   * Vehicles the snapshot does not list may arrive (a workplace or public site without schedules). Once the billing
   * month's peak has reached the connection limit, no demand charge is left to save and capacity is what is scarce:
   * the plan then delivers what it can now, least laxity first, instead of deferring to cheaper slots the unannounced
   * vehicles will compete for. Default false (a fleet depot, whose returns are in the snapshot as expected sessions).
   */
  readonly unannouncedArrivals: boolean;
  /**
   * Wait and see, for a caller that re-plans every slot (kW; 0 = off, the default): when the best plan raises the
   * billing month's peak, the first slot stays at the peak already paid if everything can still be delivered under a
   * cap at most this much higher than the best one. A raise metered cannot be taken back; one held for a slot is
   * decided again with whoever has arrived by then. The caller bounds how long it keeps holding one raise (each hold
   * may cost up to this much peak later, and holds add up).
   */
  readonly holdRaiseKw: number;
}

export interface DepotSnapshot {
  readonly depotId: string;
  /** IANA zone in which tariffs are read. */
  readonly timeZone: string;
  /** 1..60; default 15. */
  readonly slotMinutes?: number;
  /** Grid connection limit, kW; also capped by the root circuit's limit. */
  readonly gridLimitKw: number;
  readonly circuits: readonly CircuitSpec[];
  readonly chargers: readonly ChargerSpec[];
  readonly sessions: readonly SessionSpec[];
  readonly otherLoadKw?: readonly LoadForecastStep[];
  readonly tariff: Tariff;
  /** Highest slot-average site power already metered in the current billing month, kW. */
  readonly peakSoFarKw?: number;
  /**
   * The peak the billing month is expected to reach anyway, kW, from the site's metering history (e.g. last month's
   * peak). Read only with policy.unannouncedArrivals: a site whose history says it runs at its connection limit has no
   * demand charge left to save by deferring, just as when the peak so far is there. Default 0 (no expectation).
   */
  readonly expectedPeakKw?: number;
  /**
   * Site power kept free for vehicles the snapshot does not list yet (e.g. what the site's history says arrivals
   * draw in the next hours), kW from `fromMs` until the next entry. The plan puts energy there only when the
   * chosen site cap could not deliver it anywhere else, at any price: deferring into the cheap slots right up to the
   * peak leaves nothing for a busy hour's arrivals, whose departures then raise the peak. Default none.
   */
  readonly reserveKw?: readonly LoadForecastStep[];
  readonly policy?: Partial<PlannerPolicy>;
}

export interface SessionPlan {
  readonly sessionId: string;
  readonly chargerId: string;
  readonly kind: 'plugged' | 'expected';
  /** Slot-average power per slot of the plan grid, kW. */
  readonly powerKw: readonly number[];
  readonly neededKwh: number;
  readonly plannedKwh: number;
  readonly shortfallKwh: number;
  readonly departureMs: number;
  /** Predicted SoC at departure, when the battery is known. */
  readonly socAtDeparturePercent?: number;
  readonly ready: boolean;
  /** Why the plan looks the way it does for this vehicle, in words and numbers. */
  readonly trace: readonly string[];
}

export interface CircuitLoad {
  readonly circuitId: string;
  readonly limitKw: number;
  readonly loadKw: readonly number[];
}

export interface Plan {
  readonly depotId: string;
  readonly nowMs: number;
  /** Slot boundaries: slot t is [slotStartsMs[t], slotStartsMs[t + 1]); the first slot may be short (it starts at now). */
  readonly slotStartsMs: readonly number[];
  readonly pricePerKwh: readonly number[];
  readonly sessions: readonly SessionPlan[];
  readonly circuits: readonly CircuitLoad[];
  /** Charging plus other site load per slot, kW. */
  readonly siteLoadKw: readonly number[];
  /** The site power cap the planner chose to trade energy price against demand charge, kW. */
  readonly siteCapKw: number;
  readonly energyCost: number;
  readonly demandChargeIncrement: number;
  readonly totalCost: number;
  readonly peakKw: number;
  readonly currency: string;
  /** Every session ready by departure. */
  readonly allReady: boolean;
  readonly shortfallKwh: number;
}

export interface PlanOptions {
  /**
   * The previous plan for the same depot, as plan() returned it: a re-plan after an event that only tightened the
   * problem repairs it instead of searching (cheap); otherwise, or for a copy of a plan, its site cap seeds the search.
   */
  readonly previous?: Plan;
}
