import type { MeterSampled, SessionStarted } from '../bus/events.ts';
import type { SocObservation } from './fusion.ts';

/**
 * What the chargers say about a vehicle: the EV's SoC as the charger reports it, and the energy register samples of
 * its sessions, so "energy delivered since instant T" can be answered. Fed from the bus (`SessionStarted`,
 * `MeterSampled`) once the EVSE has been attributed to a vehicle; kept in memory, bounded per vehicle.
 */
interface EnergySample { readonly atMs: number; readonly registerKwh: number }

const MAX_SAMPLES = 2000;

export class ChargerFeed {
  private readonly soc = new Map<string, SocObservation>();
  /** vehicle key -> transaction id -> samples in time order */
  private readonly energy = new Map<string, Map<string, EnergySample[]>>();

  sessionStarted(vehicle: string, e: SessionStarted): void {
    this.sample(vehicle, e.transactionId, Date.parse(e.at), e.meterStartKwh);
  }

  meterSampled(vehicle: string, e: MeterSampled): void {
    if (e.socPercent !== null) this.socReported(vehicle, e.socPercent, e.at);
    if (e.energyKwh !== null && e.transactionId !== null) this.sample(vehicle, e.transactionId, Date.parse(e.at), e.energyKwh);
  }

  /** The EV's SoC as the charger relayed it (a meter value, or ISO 15118 charging needs); a newer one wins. */
  socReported(vehicle: string, socPercent: number, at: string): void {
    if (!Number.isFinite(socPercent) || socPercent < 0 || socPercent > 100) return;
    const current = this.soc.get(vehicle);
    if (!current || current.at <= at) this.soc.set(vehicle, { socPercent, at });
  }

  private sample(vehicle: string, transactionId: string, atMs: number, registerKwh: number): void {
    if (!Number.isFinite(atMs) || !Number.isFinite(registerKwh)) return;
    let byTx = this.energy.get(vehicle);
    if (!byTx) this.energy.set(vehicle, byTx = new Map());
    let list = byTx.get(transactionId);
    if (!list) byTx.set(transactionId, list = []);
    // Samples may arrive out of order (stations resend queued meter values after a reconnect).
    let i = list.length;
    while (i > 0 && list[i - 1].atMs > atMs) i--;
    list.splice(i, 0, { atMs, registerKwh });
    if (list.length > MAX_SAMPLES) list.splice(1, 1); // keep the first (session start) and the newest
  }

  chargerSoc(vehicle: string): SocObservation | null {
    return this.soc.get(vehicle) ?? null;
  }

  /** kWh delivered into the vehicle after `sinceIso`, over all its sessions, and the instant of the last sample counted. */
  energySince(vehicle: string, sinceIso: string): { kwh: number; until: string } | null {
    const since = Date.parse(sinceIso);
    const byTx = this.energy.get(vehicle);
    if (!byTx || !Number.isFinite(since)) return null;
    let kwh = 0;
    let until = -Infinity;
    for (const list of byTx.values()) {
      const last = list[list.length - 1];
      if (!last || last.atMs <= since) continue;
      // The register at `since`: the last sample at or before it, else the session's first sample (it began after).
      let baseline = list[0];
      for (const s of list) { if (s.atMs <= since) baseline = s; else break; }
      kwh += Math.max(0, last.registerKwh - baseline.registerKwh);
      until = Math.max(until, last.atMs);
    }
    return until === -Infinity ? null : { kwh, until: new Date(until).toISOString() };
  }
}
