import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseSample, summarise } from '../../src/ocpp/meter.ts';

test('sampled values normalise to domain units with the spec defaults', () => {
  assert.deepEqual(normaliseSample({ value: 12_345 }), { measurand: 'Energy.Active.Import.Register', phase: '', location: 'Outlet', context: 'Sample.Periodic', value: 12.345, unit: 'kWh' });
  const cases: [Parameters<typeof normaliseSample>[0], number, string][] = [
    [{ value: 12.5, measurand: 'Energy.Active.Import.Register', unit: 'kWh' }, 12.5, 'kWh'],
    [{ value: 7400, measurand: 'Power.Active.Import' }, 7.4, 'kW'],
    [{ value: 11, measurand: 'Power.Active.Import', unit: 'kW' }, 11, 'kW'],
    [{ value: 22000, measurand: 'Power.Offered', unit: 'W' }, 22, 'kW'],
    [{ value: 500, measurand: 'Power.Reactive.Import', unit: 'var' }, 0.5, 'kvar'],
    [{ value: 2000, measurand: 'Energy.Reactive.Import.Register', unit: 'varh' }, 2, 'kvarh'],
    [{ value: 32, measurand: 'Current.Offered' }, 32, 'A'],
    [{ value: 231, measurand: 'Voltage' }, 231, 'V'],
    [{ value: 55, measurand: 'SoC' }, 55, '%'],
    [{ value: 77, measurand: 'Temperature', unit: 'Fahrenheit' }, 25, 'degC'],
    [{ value: 300.15, measurand: 'Temperature', unit: 'K' }, 27, 'degC'],
    [{ value: 50, measurand: 'Frequency' }, 50, 'Hz'],
    [{ value: 7.4, measurand: 'Power.Active.Import', unit: 'W', multiplier: 3 }, 7.4, 'kW'],
  ];
  for (const [raw, value, unit] of cases) {
    const s = normaliseSample(raw);
    assert.ok(Math.abs(s.value - value) < 1e-9, `${JSON.stringify(raw)} -> ${s.value}`);
    assert.equal(s.unit, unit);
  }
});

test('summaries prefer totals, sum per-phase power and energy, take the highest phase current, and skip inlet readings', () => {
  const perPhase = summarise([
    normaliseSample({ value: 2400, measurand: 'Power.Active.Import', phase: 'L1' }),
    normaliseSample({ value: 2300, measurand: 'Power.Active.Import', phase: 'L2' }),
    normaliseSample({ value: 2500, measurand: 'Power.Active.Import', phase: 'L3' }),
    normaliseSample({ value: 10, measurand: 'Current.Import', phase: 'L1' }),
    normaliseSample({ value: 11, measurand: 'Current.Import', phase: 'L2' }),
    normaliseSample({ value: 400, measurand: 'Voltage', phase: 'L1-L2' }),
    normaliseSample({ value: 230, measurand: 'Voltage', phase: 'L1-N' }),
    normaliseSample({ value: 99_000, measurand: 'Energy.Active.Import.Register', location: 'Inlet' }),
    normaliseSample({ value: 41, measurand: 'SoC', location: 'EV' }),
  ]);
  assert.ok(Math.abs(perPhase.powerKw! - 7.2) < 1e-9);
  assert.equal(perPhase.currentA, 11);
  assert.equal(perPhase.voltageV, 230);
  assert.equal(perPhase.energyKwh, null, 'an inlet register is not the session energy');
  assert.equal(perPhase.socPercent, 41);
  const total = summarise([
    normaliseSample({ value: 7000, measurand: 'Power.Active.Import' }),
    normaliseSample({ value: 2400, measurand: 'Power.Active.Import', phase: 'L1' }),
  ]);
  assert.equal(total.powerKw, 7);
  assert.deepEqual(total.phases, { 'Power.Active.Import': { L1: 2.4 } });
});
