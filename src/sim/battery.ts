// A vehicle's traction battery as a charger sees it: how much power it will take at its state of charge (onboard AC
// charger limit, DC limit, taper above a knee), how much of the grid energy ends up stored (efficiency), and what a
// drive uses. Pure state + arithmetic; the caller integrates over time.
import type { TaperPoint } from '../planner/types.ts';

export interface BatterySpec {
  readonly capacityKwh: number;
  /** Onboard charger limit on AC, kW (grid side). */
  readonly acMaxPowerKw: number;
  /** DC inlet limit, kW. */
  readonly dcMaxPowerKw: number;
  /** Acceptance curve (SoC %, max kW), interpolated and held flat beyond its ends; overrides the knee. */
  readonly taper?: readonly TaperPoint[];
  /** Without a taper curve: acceptance falls linearly from dcMaxPowerKw at this SoC to `floorShare` of it at 100 %. */
  readonly kneeSocPercent?: number;
  /** Share of grid energy stored in the battery, 0..1. */
  readonly efficiency?: number;
  /** kWh per km driven. */
  readonly consumptionKwhPerKm?: number;
}

export const defaultKneeSocPercent = 80;
export const defaultEfficiency = 0.92;
export const defaultConsumptionKwhPerKm = 0.25;
const floorShare = 0.1;

export function validateBatterySpec(s: BatterySpec): void {
  const bad = (field: string, why: string) => { throw new RangeError(`battery.${field}: ${why}`); };
  if (!(s.capacityKwh > 0)) bad('capacityKwh', 'must be a positive number');
  if (!(s.acMaxPowerKw > 0)) bad('acMaxPowerKw', 'must be a positive number');
  if (!(s.dcMaxPowerKw > 0)) bad('dcMaxPowerKw', 'must be a positive number');
  if (s.efficiency !== undefined && !(s.efficiency > 0 && s.efficiency <= 1)) bad('efficiency', 'must be in (0, 1]');
  if (s.kneeSocPercent !== undefined && !(s.kneeSocPercent >= 0 && s.kneeSocPercent < 100)) bad('kneeSocPercent', 'must be in [0, 100)');
  if (s.consumptionKwhPerKm !== undefined && !(s.consumptionKwhPerKm >= 0)) bad('consumptionKwhPerKm', 'must be ≥ 0');
}

/** What the battery accepts at a SoC, kW on the battery side of the inlet, before the AC/DC inlet limit. */
export function acceptanceKw(s: BatterySpec, socPercent: number): number {
  if (socPercent >= 100) return 0;
  if (s.taper && s.taper.length > 0) {
    const pts = [...s.taper].sort((a, b) => a.socPercent - b.socPercent);
    if (socPercent <= pts[0].socPercent) return pts[0].maxPowerKw;
    for (let k = 1; k < pts.length; k++) {
      if (socPercent <= pts[k].socPercent) {
        const f = (socPercent - pts[k - 1].socPercent) / (pts[k].socPercent - pts[k - 1].socPercent);
        return pts[k - 1].maxPowerKw + f * (pts[k].maxPowerKw - pts[k - 1].maxPowerKw);
      }
    }
    return pts.at(-1)!.maxPowerKw;
  }
  const knee = s.kneeSocPercent ?? defaultKneeSocPercent;
  const top = Math.max(s.dcMaxPowerKw, s.acMaxPowerKw);
  if (socPercent <= knee) return top;
  return top * (1 - (1 - floorShare) * (socPercent - knee) / (100 - knee));
}

/** A battery with its charge. */
export class Battery {
  readonly spec: BatterySpec;
  private storedKwh: number;

  constructor(spec: BatterySpec, socPercent: number) {
    validateBatterySpec(spec);
    if (!(socPercent >= 0 && socPercent <= 100)) throw new RangeError(`battery socPercent must be 0..100, got ${socPercent}`);
    this.spec = spec;
    this.storedKwh = spec.capacityKwh * socPercent / 100;
  }

  get socPercent(): number { return (this.storedKwh / this.spec.capacityKwh) * 100; }
  get energyKwh(): number { return this.storedKwh; }

  /** Grid-side power the vehicle draws at most from a charger of this kind now, kW. */
  maxIntakeKw(kind: 'AC' | 'DC'): number {
    const inlet = kind === 'AC' ? this.spec.acMaxPowerKw : this.spec.dcMaxPowerKw;
    return Math.max(0, Math.min(inlet, acceptanceKw(this.spec, this.socPercent)));
  }

  /** Takes grid energy in; returns the grid energy actually taken (it stops at full). */
  absorb(gridKwh: number): number {
    const eff = this.spec.efficiency ?? defaultEfficiency;
    const room = this.spec.capacityKwh - this.storedKwh;
    const taken = Math.min(Math.max(0, gridKwh), room / eff);
    this.storedKwh = Math.min(this.spec.capacityKwh, this.storedKwh + taken * eff);
    return taken;
  }

  /** Drives `km`; returns the kWh used (never below empty). */
  drive(km: number): number {
    const used = Math.min(this.storedKwh, Math.max(0, km) * (this.spec.consumptionKwhPerKm ?? defaultConsumptionKwhPerKm));
    this.storedKwh -= used;
    return used;
  }
}
