/**
 * OCPP sampled values -> domain units. Pure. Both versions share the measurand, phase, location and context
 * vocabulary; only the field spelling around them differs, so the version adapters hand in this neutral shape.
 */

export interface RawSampledValue {
  readonly value: number;
  readonly measurand?: string;
  readonly unit?: string;
  /** OCPP 2.0.1 unitOfMeasure.multiplier: value × 10^multiplier. */
  readonly multiplier?: number;
  readonly phase?: string;
  readonly location?: string;
  readonly context?: string;
}

export interface NormalisedSample {
  readonly measurand: string;
  /** '' when the value is not per phase. */
  readonly phase: string;
  readonly location: string;
  readonly context: string;
  readonly value: number;
  /** The domain unit: kWh, kW, kvarh, kvar, A, V, %, degC, Hz, rpm or the station's own for anything else. */
  readonly unit: string;
}

const defaultUnit: Record<string, string> = {
  'Energy.Active.Import.Register': 'Wh', 'Energy.Active.Export.Register': 'Wh',
  'Energy.Reactive.Import.Register': 'varh', 'Energy.Reactive.Export.Register': 'varh',
  'Energy.Active.Import.Interval': 'Wh', 'Energy.Active.Export.Interval': 'Wh',
  'Energy.Reactive.Import.Interval': 'varh', 'Energy.Reactive.Export.Interval': 'varh',
  'Energy.Active.Net': 'Wh', 'Energy.Reactive.Net': 'varh', 'Energy.Apparent.Net': 'VAh',
  'Energy.Apparent.Import': 'VAh', 'Energy.Apparent.Export': 'VAh',
  'Power.Active.Import': 'W', 'Power.Active.Export': 'W', 'Power.Offered': 'W',
  'Power.Reactive.Import': 'var', 'Power.Reactive.Export': 'var',
  'Current.Import': 'A', 'Current.Export': 'A', 'Current.Offered': 'A',
  Voltage: 'V', SoC: 'Percent', Temperature: 'Celsius', Frequency: 'Hz', 'Power.Factor': '', RPM: 'rpm',
};

/** Station unit -> [domain unit, factor]. */
const conversions: Record<string, [string, number]> = {
  Wh: ['kWh', 1e-3], kWh: ['kWh', 1],
  varh: ['kvarh', 1e-3], kvarh: ['kvarh', 1],
  VAh: ['kVAh', 1e-3], kVAh: ['kVAh', 1],
  W: ['kW', 1e-3], kW: ['kW', 1],
  var: ['kvar', 1e-3], kvar: ['kvar', 1],
  VA: ['kVA', 1e-3], kVA: ['kVA', 1],
  A: ['A', 1], V: ['V', 1], Percent: ['%', 1], Hz: ['Hz', 1], rpm: ['rpm', 1], '': ['', 1],
  Celsius: ['degC', 1], Celcius: ['degC', 1], // 1.6's schema spells it Celsius; some firmware writes Celcius
};

export function normaliseSample(raw: RawSampledValue): NormalisedSample {
  const measurand = raw.measurand ?? 'Energy.Active.Import.Register';
  const unit = raw.unit ?? defaultUnit[measurand] ?? '';
  const scaled = raw.value * 10 ** (raw.multiplier ?? 0);
  let value: number;
  let domainUnit: string;
  if (unit === 'Fahrenheit') {
    [value, domainUnit] = [(scaled - 32) * 5 / 9, 'degC'];
  } else if (unit === 'K') {
    [value, domainUnit] = [scaled - 273.15, 'degC'];
  } else {
    const [to, factor] = conversions[unit] ?? [unit, 1];
    [value, domainUnit] = [scaled * factor, to];
  }
  return {
    measurand,
    phase: raw.phase ?? '',
    location: raw.location ?? 'Outlet',
    context: raw.context ?? 'Sample.Periodic',
    value,
    unit: domainUnit,
  };
}

/** The MeterSampled event's summary fields for one instant's samples. */
export interface SampleSummary {
  powerKw: number | null;
  energyKwh: number | null;
  currentA: number | null;
  voltageV: number | null;
  socPercent: number | null;
  offeredPowerKw: number | null;
  currentOfferedA: number | null;
  temperatureC: number | null;
  phases: Record<string, Record<string, number>> | null;
  context: string;
}

const summaryField: Record<string, keyof Omit<SampleSummary, 'phases' | 'context'>> = {
  'Power.Active.Import': 'powerKw',
  'Energy.Active.Import.Register': 'energyKwh',
  'Current.Import': 'currentA',
  Voltage: 'voltageV',
  SoC: 'socPercent',
  'Power.Offered': 'offeredPowerKw',
  'Current.Offered': 'currentOfferedA',
  Temperature: 'temperatureC',
};

/**
 * Folds the samples of one instant. Readings at the outlet (or EV, for SoC) win over inlet/body ones. A value without
 * a phase is the total; when only per-phase values came, power and energy are their sum and current and voltage their
 * maximum (the phase that limits).
 */
export function summarise(samples: readonly NormalisedSample[]): SampleSummary {
  const summary: SampleSummary = {
    powerKw: null, energyKwh: null, currentA: null, voltageV: null, socPercent: null,
    offeredPowerKw: null, currentOfferedA: null, temperatureC: null, phases: null,
    context: samples[0]?.context ?? 'Sample.Periodic',
  };
  const perPhase: Record<string, Record<string, number>> = {};
  for (const s of samples) {
    const field = summaryField[s.measurand];
    if (!field) continue;
    if (s.location !== 'Outlet' && s.location !== 'EV' && s.measurand !== 'Temperature') continue;
    if (s.phase) {
      (perPhase[s.measurand] ??= {})[s.phase] = s.value;
    } else {
      summary[field] = s.value;
    }
  }
  for (const [measurand, byPhase] of Object.entries(perPhase)) {
    const field = summaryField[measurand]!;
    if (summary[field] !== null) continue;
    // Line-to-line values (L1-L2) would double count with line-to-neutral ones; totals come from L1..L3 or L1-N..L3-N.
    const values = Object.entries(byPhase).filter(([p]) => !/^L\d-L\d$/.test(p)).map(([, v]) => v);
    if (values.length === 0) continue;
    summary[field] = field === 'powerKw' || field === 'energyKwh' ? values.reduce((a, b) => a + b, 0) : Math.max(...values);
  }
  summary.phases = Object.keys(perPhase).length > 0 ? perPhase : null;
  return summary;
}
