import type { Bus } from '../bus/bus.ts';
import type { OcppRepository } from './repository.ts';
import { meterValueRow, type MeterValueRow } from './meter-values.ts';
import { summarise, type NormalisedSample } from './meter.ts';

export interface MeterInstant {
  /** ISO-8601 UTC, the station's timestamp. */
  readonly sampledAt: string;
  readonly samples: readonly NormalisedSample[];
}

/**
 * What both protocol versions do with normalised meter values: store every sample, announce each instant newer than the
 * last one announced for that EVSE (older or repeated ones are stored, not re-announced), and answer only once stored —
 * a charger deletes what we accept. One recorder per connection.
 */
export function sampleRecorder(repo: OcppRepository, bus: Bus, stationId: string) {
  const lastSampleAt = new Map<number, string | null>();
  /** Resolves once the rows are stored. Not an async function: one promise per MeterValues, not three. */
  return function record(evseId: number, transactionId: number | null, instants: readonly MeterInstant[], receivedAt: string): Promise<void> {
    // After a restart the newest stored instant decides what a replayed sample is; read it before adding new ones.
    if (!lastSampleAt.has(evseId)) {
      return repo.latestSampleAt(stationId, evseId).then((at) => {
        if (!lastSampleAt.has(evseId)) lastSampleAt.set(evseId, at);
        return store(evseId, transactionId, instants, receivedAt);
      });
    }
    return store(evseId, transactionId, instants, receivedAt);
  };

  function store(evseId: number, transactionId: number | null, instants: readonly MeterInstant[], receivedAt: string): Promise<void> {
    const rows: MeterValueRow[] = [];
    for (const { sampledAt, samples } of instants) {
      if (samples.length === 0) continue;
      rows.push(meterValueRow(stationId, evseId, transactionId, sampledAt, samples));
      const last = lastSampleAt.get(evseId);
      if (last && last >= sampledAt) continue;
      lastSampleAt.set(evseId, sampledAt);
      bus.publish({
        type: 'MeterSampled', stationId, at: sampledAt, receivedAt, evseId, connectorId: evseId === 0 ? 0 : 1,
        transactionId: transactionId === null ? null : String(transactionId), ...summarise(samples),
      });
    }
    return repo.addMeterValues(rows);
  }
}
