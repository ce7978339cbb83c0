import type { Generated, Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { Migration } from '../store/migration.ts';

/** What the control loop keeps: every plan with its inputs, every command with its answer, alerts, pending changes. */

export const controlMigrations: readonly Migration[] = [{
  name: '0401_control_records',
  async up(db: Kysely<unknown>, dialect) {
    await dialect.addIdColumn(db.schema.createTable('control_plan'), 'id')
      .addColumn('depot_id', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('planning_ms', 'double precision', (c) => c.notNull())
      .addColumn('snapshot_json', 'text', (c) => c.notNull())
      .addColumn('plan_json', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('control_plan_depot').on('control_plan').columns(['depot_id', 'id']).execute();
    await dialect.addIdColumn(db.schema.createTable('control_command'), 'id')
      .addColumn('plan_id', 'integer')
      .addColumn('depot_id', 'text', (c) => c.notNull())
      .addColumn('station_id', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('command_json', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('answer', 'text')
      .execute();
    await db.schema.createIndex('control_command_plan').on('control_command').columns(['plan_id']).execute();
    await dialect.addIdColumn(db.schema.createTable('control_alert'), 'id')
      .addColumn('depot_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('vehicle_id', 'text')
      .addColumn('charger_id', 'text')
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('raised_at', 'text', (c) => c.notNull())
      .addColumn('cleared_at', 'text')
      .addColumn('acknowledged_at', 'text')
      .addColumn('acknowledged_by', 'text')
      .execute();
    await db.schema.createIndex('control_alert_open').on('control_alert').columns(['depot_id', 'key', 'cleared_at']).execute();
  },
}];

export interface AlertRow {
  id: number;
  depot_id: string;
  key: string;
  kind: string;
  severity: string;
  vehicle_id: string | null;
  charger_id: string | null;
  message: string;
  raised_at: string;
  cleared_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
}

type Tables = {
  control_plan: { id: Generated<number>; depot_id: string; at: string; trigger: string; mode: string; planning_ms: number; snapshot_json: string; plan_json: string };
  control_command: { id: Generated<number>; plan_id: number | null; depot_id: string; station_id: string; at: string; command_json: string; outcome: string; answer: string | null };
  control_alert: Omit<AlertRow, 'id'> & { id: Generated<number> };
};

export interface Alert {
  readonly key: string;
  readonly kind: 'not-ready' | 'not-drawing' | 'charger-down' | 'idle-occupied' | 'soc-drop' | 'unknown-vehicle' | 'profile-not-applied';
  readonly severity: 'warning' | 'critical';
  readonly vehicleId: string | null;
  readonly chargerId: string | null;
  readonly message: string;
}

export interface ControlRecords {
  savePlan(row: { depotId: string; at: string; trigger: string; mode: string; planningMs: number; snapshot: unknown; plan: unknown }): Promise<number>;
  latestPlan(depotId: string): Promise<{ id: number; at: string; trigger: string; mode: string; snapshot: unknown; plan: unknown } | null>;
  saveCommand(row: { planId: number | null; depotId: string; stationId: string; at: string; command: unknown; outcome: string; answer: unknown }): Promise<void>;
  commands(filter: { depotId: string; planId?: number; limit: number; offset: number }): Promise<{ items: { id: number; planId: number | null; stationId: string; at: string; command: unknown; outcome: string; answer: unknown }[]; total: number }>;
  /** Makes the open alerts of a depot exactly `alerts`: new ones are raised, gone ones cleared. Returns those raised. */
  syncAlerts(depotId: string, alerts: readonly Alert[], at: string): Promise<Alert[]>;
  alerts(filter: { depotId?: string; open?: boolean; limit: number; offset: number }): Promise<{ items: AlertRow[]; total: number }>;
  acknowledge(id: number, by: string, at: string): Promise<AlertRow | null>;
  /** Keeps the newest `keep` plans of a depot. */
  prunePlans(depotId: string, keep: number): Promise<void>;
}

export function controlRecords(store: Store): ControlRecords {
  const db = store.db.withTables<Tables>();
  return {
    async savePlan(r) {
      const row = await db.insertInto('control_plan').values({
        depot_id: r.depotId, at: r.at, trigger: r.trigger, mode: r.mode, planning_ms: r.planningMs, snapshot_json: JSON.stringify(r.snapshot), plan_json: JSON.stringify(r.plan),
      }).returning('id').executeTakeFirstOrThrow();
      return row.id;
    },
    async latestPlan(depotId) {
      const r = await db.selectFrom('control_plan').selectAll().where('depot_id', '=', depotId).orderBy('id', 'desc').limit(1).executeTakeFirst();
      return r ? { id: r.id, at: r.at, trigger: r.trigger, mode: r.mode, snapshot: JSON.parse(r.snapshot_json), plan: JSON.parse(r.plan_json) } : null;
    },
    async saveCommand(r) {
      await db.insertInto('control_command').values({
        plan_id: r.planId, depot_id: r.depotId, station_id: r.stationId, at: r.at, command_json: JSON.stringify(r.command), outcome: r.outcome,
        answer: r.answer === undefined ? null : JSON.stringify(r.answer),
      }).execute();
    },
    async commands({ depotId, planId, limit, offset }) {
      let q = db.selectFrom('control_command').where('depot_id', '=', depotId);
      if (planId !== undefined) q = q.where('plan_id', '=', planId);
      const rows = await q.selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute();
      const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return {
        items: rows.map((r) => ({ id: r.id, planId: r.plan_id, stationId: r.station_id, at: r.at, command: JSON.parse(r.command_json), outcome: r.outcome, answer: r.answer ? JSON.parse(r.answer) : null })),
        total: Number(n),
      };
    },
    async syncAlerts(depotId, alerts, at) {
      const open = await db.selectFrom('control_alert').selectAll().where('depot_id', '=', depotId).where('cleared_at', 'is', null).execute();
      const openKeys = new Set(open.map((a) => a.key));
      const wanted = new Map(alerts.map((a) => [a.key, a]));
      const gone = open.filter((a) => !wanted.has(a.key)).map((a) => a.id);
      if (gone.length) await db.updateTable('control_alert').set({ cleared_at: at }).where('id', 'in', gone).execute();
      const raised = alerts.filter((a) => !openKeys.has(a.key));
      if (raised.length) {
        await db.insertInto('control_alert').values(raised.map((a) => ({
          depot_id: depotId, key: a.key, kind: a.kind, severity: a.severity, vehicle_id: a.vehicleId, charger_id: a.chargerId, message: a.message,
          raised_at: at, cleared_at: null, acknowledged_at: null, acknowledged_by: null,
        }))).execute();
      }
      // Messages carry live numbers: keep the open ones current.
      for (const a of open) {
        const w = wanted.get(a.key);
        if (w && w.message !== a.message) await db.updateTable('control_alert').set({ message: w.message }).where('id', '=', a.id).execute();
      }
      return raised;
    },
    async alerts({ depotId, open, limit, offset }) {
      let q = db.selectFrom('control_alert');
      if (depotId) q = q.where('depot_id', '=', depotId);
      if (open === true) q = q.where('cleared_at', 'is', null);
      if (open === false) q = q.where('cleared_at', 'is not', null);
      const items = await q.selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute();
      const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return { items, total: Number(n) };
    },
    async acknowledge(id, by, at) {
      await db.updateTable('control_alert').set({ acknowledged_at: at, acknowledged_by: by }).where('id', '=', id).where('acknowledged_at', 'is', null).execute();
      return (await db.selectFrom('control_alert').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
    },
    async prunePlans(depotId, keep) {
      const cutoff = await db.selectFrom('control_plan').select('id').where('depot_id', '=', depotId).orderBy('id', 'desc').offset(keep).limit(1).executeTakeFirst();
      if (cutoff) await db.deleteFrom('control_plan').where('depot_id', '=', depotId).where('id', '<=', cutoff.id).execute();
    },
  };
}
