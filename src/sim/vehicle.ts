// A simulated vehicle: a battery on wheels. At the depot it is a PluggedVehicle for a charger; after departure it
// drives its route at a steady speed, using energy per km, which its telematics feed reports.
import { Battery, type BatterySpec } from './battery.ts';
import type { PluggedVehicle } from './charge-point.ts';

export type VehiclePlace = 'expected' | 'plugged' | 'driving' | 'parked';

export interface VehicleSnapshot {
  readonly vehicleId: string;
  readonly socPercent: number;
  readonly odometerKm: number;
  readonly speedKmh: number;
  readonly lat: number;
  readonly lon: number;
  readonly pluggedIn: boolean;
  readonly charging: boolean;
  readonly chargeEnergyAddedKwh: number;
  readonly rangeKm: number;
}

/** Where the depot is (the reference depot sits in Amsterdam); trips head east from it. */
export const depotLocation = { lat: 52.3731, lon: 4.8922 };
const kmPerDegreeLat = 111.2;

export class SimVehicle implements PluggedVehicle {
  readonly id: string;
  readonly battery: Battery;
  place: VehiclePlace = 'expected';
  private odometer: number;
  private energyAddedKwh = 0;
  /** Asks the charger whether power flows now (set while plugged). */
  chargingProbe: (() => boolean) | null = null;
  private trip: { startMs: number; km: number; speedKmh: number; drivenKm: number } | null = null;

  constructor(id: string, spec: BatterySpec, socPercent: number, odometerKm = 20_000) {
    this.id = id;
    this.battery = new Battery(spec, socPercent);
    this.odometer = odometerKm;
  }

  get socPercent(): number { return this.battery.socPercent; }

  maxIntakeKw(kind: 'AC' | 'DC'): number { return this.battery.maxIntakeKw(kind); }

  absorb(gridKwh: number): number {
    const before = this.battery.energyKwh;
    const taken = this.battery.absorb(gridKwh);
    this.energyAddedKwh += this.battery.energyKwh - before;
    return taken;
  }

  plugIn(): void {
    this.place = 'plugged';
    this.energyAddedKwh = 0;
  }

  /** Leaves the depot and drives `km` at `speedKmh`. */
  depart(nowMs: number, km: number, speedKmh = 40): void {
    this.place = 'driving';
    this.chargingProbe = null;
    this.trip = { startMs: nowMs, km, speedKmh, drivenKm: 0 };
  }

  /** Brings the trip up to `nowMs`: distance, odometer and battery drain. */
  private drive(nowMs: number): void {
    const trip = this.trip;
    if (!trip) return;
    const target = Math.min(trip.km, Math.max(0, (nowMs - trip.startMs) / 3_600_000) * trip.speedKmh);
    if (target > trip.drivenKm) {
      this.battery.drive(target - trip.drivenKm);
      this.odometer += target - trip.drivenKm;
      trip.drivenKm = target;
    }
    if (trip.drivenKm >= trip.km) this.place = 'parked';
  }

  snapshot(nowMs: number): VehicleSnapshot {
    this.drive(nowMs);
    const onTrip = this.trip?.drivenKm ?? 0;
    const consumption = this.battery.spec.consumptionKwhPerKm ?? 0.25;
    return {
      vehicleId: this.id,
      socPercent: this.battery.socPercent,
      odometerKm: this.odometer,
      speedKmh: this.place === 'driving' ? this.trip!.speedKmh : 0,
      lat: depotLocation.lat,
      lon: depotLocation.lon + onTrip / (kmPerDegreeLat * Math.cos(depotLocation.lat * Math.PI / 180)),
      pluggedIn: this.place === 'plugged',
      charging: this.place === 'plugged' && (this.chargingProbe?.() ?? false),
      chargeEnergyAddedKwh: this.energyAddedKwh,
      rangeKm: consumption > 0 ? this.battery.energyKwh / consumption : 0,
    };
  }
}
