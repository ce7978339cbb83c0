import type { ChargingLimitProfile } from './commands.ts';

/**
 * A domain schedule (kW or A per phase) as both OCPP versions write a charging schedule: W or A, whole-second
 * periods, limits with one decimal place (1.6: multipleOf 0.1; 2.0.1: "at most one digit fraction").
 */
export interface OcppSchedule {
  chargingRateUnit: 'W' | 'A';
  chargingSchedulePeriod: { startPeriod: number; limit: number; numberPhases?: number }[];
  duration?: number;
  startSchedule?: string;
  minChargingRate?: number;
}

const tenth = (x: number) => Math.round(x * 10) / 10;

export function ocppSchedule(schedule: ChargingLimitProfile['schedule']): OcppSchedule {
  const toRate = schedule.unit === 'kW' ? (kw: number) => tenth(kw * 1000) : tenth;
  return {
    chargingRateUnit: schedule.unit === 'kW' ? 'W' : 'A',
    chargingSchedulePeriod: schedule.periods.map((period) => ({
      startPeriod: Math.round(period.startOffsetS), limit: toRate(period.limit),
      ...(period.numberPhases !== undefined ? { numberPhases: period.numberPhases } : {}),
    })),
    ...(schedule.durationS !== undefined ? { duration: Math.round(schedule.durationS) } : {}),
    ...(schedule.startAt !== undefined ? { startSchedule: schedule.startAt } : {}),
    ...(schedule.minRate !== undefined ? { minChargingRate: toRate(schedule.minRate) } : {}),
  };
}
