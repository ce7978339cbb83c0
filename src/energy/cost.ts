// Costing of a site load profile: energy at slot prices plus the demand-charge increment over the peak already paid for.

export interface CostBreakdown {
  readonly energyCost: number;
  /** Extra demand charge this profile causes: rate × (new peak − peak so far), never negative. */
  readonly demandChargeIncrement: number;
  readonly total: number;
  /** Highest slot-average site power in the profile, kW. */
  readonly peakKw: number;
}

/**
 * `chargedLoadKw` is the load whose energy we pay for (the planner's own load); `siteLoadKw` is what the meter
 * sees (charging plus other site load) and sets the peak.
 */
export function costOf(
  chargedLoadKw: ArrayLike<number>, siteLoadKw: ArrayLike<number>, slotHours: ArrayLike<number>,
  pricesPerKwh: ArrayLike<number>, demandChargePerKw: number, peakSoFarKw: number,
): CostBreakdown {
  let energyCost = 0;
  let peakKw = 0;
  for (let t = 0; t < slotHours.length; t++) {
    energyCost += chargedLoadKw[t] * slotHours[t] * pricesPerKwh[t];
    if (siteLoadKw[t] > peakKw) peakKw = siteLoadKw[t];
  }
  const demandChargeIncrement = demandChargePerKw * Math.max(0, peakKw - peakSoFarKw);
  return { energyCost, demandChargeIncrement, total: energyCost + demandChargeIncrement, peakKw };
}
