import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { addFormats, isDateTime, messageSchemas } from '../../src/ocpp/schemas.ts';

const reference = (() => {
  const ajv = new Ajv();
  addFormats(ajv);
  const validate = ajv.compile({ type: 'string', format: 'date-time' });
  return (s: string) => validate(s) as boolean;
})();

test('date-time: the in-place check gives ajv-formats\' verdict on edge cases', () => {
  const cases = [
    '2026-11-20T10:00:00Z', '2026-11-20t10:00:00z', '2026-11-20 10:00:00Z', '2026-11-20T10:00:00.123456Z', '2026-11-20T10:00:00+01:00',
    '2026-11-20T10:00:00+0100', '2026-11-20T10:00:00+01', '2026-11-20T10:00:00+01:', '2026-11-20T10:00:00-23:59', '2026-11-20T10:00:00+24:00',
    '2026-11-20T10:00:00+01:60', '2026-11-20T10:00:00', '2026-11-20T10:00:00.Z', '2026-11-20T24:00:00Z', '2026-11-20T23:60:00Z',
    '2026-11-20T23:59:60Z', '2026-11-20T22:59:60Z', '2026-11-21T00:59:60+01:00', '2026-11-20T23:59:60.5Z', '2026-11-20T23:59:61Z',
    '2024-02-29T00:00:00Z', '2026-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2000-02-29T00:00:00Z', '2026-04-31T00:00:00Z',
    '2026-00-10T00:00:00Z', '2026-13-10T00:00:00Z', '2026-11-00T00:00:00Z', '2026-11-20X10:00:00Z', '2026-11-20T10:00:00ZZ',
    '2026-11-20T10:00:00+01:00x', '26-11-20T10:00:00Z', '2026-1-20T10:00:00Z', 'yesterday', '', '2026-11-20T1a:00:00Z',
    '2026-11-20T10:00:00.1234567890123Z', '２０２６-11-20T10:00:00Z', '2026-11-20T10:00:00−01:00',
  ];
  for (const s of cases) assert.equal(isDateTime(s), reference(s), JSON.stringify(s));
});

test('date-time: same verdict as ajv-formats on 20,000 mutated timestamps', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = '0123456789-:T tZz+.x';
  const bases = ['2026-11-20T10:00:00Z', '2024-02-29T23:59:60.250+01:30', '1999-12-31 23:59:59-0800', '2026-06-30T12:00:00+05'];
  let accepted = 0;
  for (let k = 0; k < 20_000; k++) {
    const chars = [...bases[k % bases.length]!];
    const edits = 1 + Math.floor(random() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * (chars.length + 1));
      const what = random();
      const c = alphabet[Math.floor(random() * alphabet.length)]!;
      if (what < 0.4) chars[at] = c;
      else if (what < 0.7) chars.splice(at, 0, c);
      else chars.splice(at, 1);
    }
    const s = chars.join('');
    const verdict = reference(s);
    if (verdict) accepted++;
    assert.equal(isDateTime(s), verdict, JSON.stringify(s));
  }
  assert.ok(accepted > 500 && accepted < 19_000, `a mix of valid and invalid inputs (${accepted} valid)`);
});

test('schemas: known and unknown messages, valid and invalid payloads, per version', () => {
  const v16 = messageSchemas('ocpp1.6');
  assert.equal(v16.check('Heartbeat', 'req', {}), null);
  assert.equal(v16.check('FlyToTheMoon', 'req', {}), 'unknown');
  assert.equal(v16.check('TransactionEvent', 'req', {}), 'unknown');
  const errors = v16.check('StatusNotification', 'req', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: 'soon' });
  assert.ok(Array.isArray(errors) && errors[0]!.keyword === 'format');
  // 1.6 limits are multipleOf 0.1: values a charger computes in floating point still pass.
  assert.equal(v16.check('SetChargingProfile', 'req', {
    connectorId: 1, csChargingProfiles: { chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative',
      chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 1.7 }, { startPeriod: 60, limit: 0.1 * 3 }] } },
  }), null);
  const v201 = messageSchemas('ocpp2.0.1');
  assert.notEqual(v201.check('TransactionEvent', 'req', {}), 'unknown');
  assert.equal(v201.check('StartTransaction', 'req', {}), 'unknown');
});
