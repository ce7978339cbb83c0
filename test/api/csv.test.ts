import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsvError, parseCsv, toCsv, type CsvColumn } from '../../src/api/csv.ts';

const columns: CsvColumn[] = [
  { name: 'id', type: 'string', required: true, maxLength: 5 },
  { name: 'kwh', type: 'number', min: 0 },
  { name: 'days', type: 'days' },
  { name: 'at', type: 'datetime' },
  { name: 'status', type: 'enum', values: ['Accepted', 'Blocked'] },
];
const problems = (text: string) => {
  try {
    parseCsv(text, columns);
  } catch (err) {
    assert.ok(err instanceof CsvError);
    return err.problems;
  }
  assert.fail('expected a CsvError');
};

test('CSV: cells are typed and checked; every problem names its line and column', () => {
  const rows = parseCsv('\uFEFFid,kwh,days,at,status\r\na,1.5,Mon FRI,2026-03-02T06:30:00+01:00,Accepted\r\n\r\n"b,2",,,,\n', columns);
  assert.deepEqual(rows, [
    { line: 2, values: { id: 'a', kwh: 1.5, days: ['mon', 'fri'], at: '2026-03-02T05:30:00.000Z', status: 'Accepted' } },
    { line: 4, values: { id: 'b,2', kwh: null, days: null, at: null, status: null } },
  ]);
  assert.deepEqual(problems('id,kwh,days,at,status\ntoolong,-1,someday,yesterday,Maybe\n,1,,,\n'), [
    { field: 'line 2, column 1 (id)', message: 'is longer than 5 characters' },
    { field: 'line 2, column 2 (kwh)', message: 'must be at least 0' },
    { field: 'line 2, column 3 (days)', message: '"someday" is not a list of days (mon tue wed thu fri sat sun)' },
    { field: 'line 2, column 4 (at)', message: '"yesterday" is not an ISO-8601 instant with a zone (e.g. 2026-03-02T06:30:00Z)' },
    { field: 'line 2, column 5 (status)', message: '"Maybe" is not one of Accepted, Blocked' },
    { field: 'line 3, column 1 (id)', message: 'is required' },
  ]);
  assert.deepEqual(problems('id,colour\na,red\n'), [{ field: 'line 1, column 2', message: 'unknown column "colour"; known: id, kwh, days, at, status' }]);
  assert.deepEqual(problems('kwh\n1\n'), [{ field: 'line 1', message: 'the header lacks the required column "id"' }]);
  assert.deepEqual(problems('id,kwh\na,1,2\n'), [{ field: 'line 2', message: 'has 3 cells; the header has 2' }]);
  assert.deepEqual(problems(''), [{ field: 'line 1', message: 'the file is empty; the header must name the columns: id,kwh,days,at,status' }]);
  const broken = problems('id,kwh\n"a,1\n');
  assert.equal(broken.length, 1);
  assert.match(broken[0].field, /^line 2/);
  assert.equal(toCsv(['id', 'days', 'kwh'], [{ id: 'x,"y"', days: ['mon', 'tue'], kwh: null }]), 'id,days,kwh\n"x,""y""",mon tue,\n');
});
