import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { parseClock } from '../energy/tariff.ts';

/**
 * CSV in and out for the lists a fleet keeps in spreadsheets (vehicles, tokens, departures). Parsing is strict: the
 * header must name known columns, every cell is checked, and each problem names its line and column, so a dispatcher
 * can fix the sheet. An import is all or nothing: one bad cell and nothing is written.
 */

export interface CsvColumn {
  readonly name: string;
  readonly type: 'string' | 'number' | 'integer' | 'datetime' | 'clock' | 'days' | 'enum';
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly maxLength?: number;
  readonly values?: readonly string[];
}

export type CsvValue = string | number | string[] | null;
export interface CsvRow { readonly line: number; readonly values: Record<string, CsvValue> }
export interface CsvProblem { field: string; message: string }

export class CsvError extends Error {
  readonly problems: CsvProblem[];
  constructor(problems: CsvProblem[]) {
    super(`${problems.length} problem(s) in the CSV; first: ${problems[0].field}: ${problems[0].message}`);
    this.problems = problems;
  }
}

const dayNames = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const maxProblems = 50;
export const maxCsvRows = 10_000;

function cell(column: CsvColumn, raw: string): { value: CsvValue } | { error: string } {
  if (raw === '') return column.required ? { error: 'is required' } : { value: null };
  switch (column.type) {
    case 'string':
      return column.maxLength !== undefined && raw.length > column.maxLength ? { error: `is longer than ${column.maxLength} characters` } : { value: raw };
    case 'number':
    case 'integer': {
      const n = Number(raw);
      if (!/^-?\d+(\.\d+)?$/.test(raw) || !Number.isFinite(n)) return { error: `"${raw}" is not a number` };
      if (column.type === 'integer' && !Number.isInteger(n)) return { error: `"${raw}" is not a whole number` };
      if (column.min !== undefined && n < column.min) return { error: `must be at least ${column.min}` };
      if (column.max !== undefined && n > column.max) return { error: `must be at most ${column.max}` };
      return { value: n };
    }
    case 'datetime': {
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(raw) || Number.isNaN(Date.parse(raw))) {
        return { error: `"${raw}" is not an ISO-8601 instant with a zone (e.g. 2026-03-02T06:30:00Z)` };
      }
      return { value: new Date(raw).toISOString() };
    }
    case 'clock':
      return Number.isNaN(parseClock(raw)) || raw === '24:00' ? { error: `"${raw}" is not a time of day HH:MM` } : { value: raw.padStart(5, '0') };
    case 'days': {
      const days = raw.toLowerCase().split(/[\s;|/]+/).filter(Boolean);
      const bad = days.filter((d) => !dayNames.includes(d));
      if (bad.length || days.length === 0) return { error: `"${raw}" is not a list of days (mon tue wed thu fri sat sun)` };
      return { value: dayNames.filter((d) => days.includes(d)) };
    }
    case 'enum':
      return column.values!.includes(raw) ? { value: raw } : { error: `"${raw}" is not one of ${column.values!.join(', ')}` };
  }
}

/** Parses and checks a CSV document against `columns`; throws CsvError listing every problem (up to 50). */
export function parseCsv(text: string, columns: readonly CsvColumn[]): CsvRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text.replace(/^\uFEFF/, ''), { info: true, relax_column_count: true, skip_empty_lines: true, trim: true, bom: true }) as never;
  } catch (err) {
    const e = err as Error & { lines?: number; column?: number | string };
    throw new CsvError([{ field: `line ${e.lines ?? '?'}${e.column !== undefined ? `, column ${typeof e.column === 'number' ? e.column + 1 : e.column}` : ''}`, message: e.message.replace(/^Invalid \w+ Format: /, '') }]);
  }
  if (records.length === 0) throw new CsvError([{ field: 'line 1', message: `the file is empty; the header must name the columns: ${columns.map((c) => c.name).join(',')}` }]);
  const header = records[0].record;
  const problems: CsvProblem[] = [];
  const byName = new Map(columns.map((c) => [c.name, c]));
  header.forEach((h, k) => { if (!byName.has(h)) problems.push({ field: `line ${records[0].info.lines}, column ${k + 1}`, message: `unknown column "${h}"; known: ${columns.map((c) => c.name).join(', ')}` }); });
  for (const c of columns) if (c.required && !header.includes(c.name)) problems.push({ field: `line ${records[0].info.lines}`, message: `the header lacks the required column "${c.name}"` });
  if (problems.length) throw new CsvError(problems);
  if (records.length - 1 > maxCsvRows) throw new CsvError([{ field: `line ${records[maxCsvRows + 1].info.lines}`, message: `at most ${maxCsvRows} rows per import` }]);

  const rows: CsvRow[] = [];
  for (const { record, info } of records.slice(1)) {
    if (record.length !== header.length) {
      problems.push({ field: `line ${info.lines}`, message: `has ${record.length} cells; the header has ${header.length}` });
      continue;
    }
    const values: Record<string, CsvValue> = {};
    for (const c of columns) values[c.name] = null;
    header.forEach((name, k) => {
      const result = cell(byName.get(name)!, record[k]);
      if ('error' in result) problems.push({ field: `line ${info.lines}, column ${k + 1} (${name})`, message: result.error });
      else values[name] = result.value;
    });
    rows.push({ line: info.lines, values });
    if (problems.length >= maxProblems) break;
  }
  if (problems.length) throw new CsvError(problems.slice(0, maxProblems));
  return rows;
}

export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  return stringify(rows.map((r) => columns.map((c) => {
    const v = r[c];
    return v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' ') : String(v);
  })), { header: true, columns: [...columns] });
}
