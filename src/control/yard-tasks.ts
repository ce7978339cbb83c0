import type { Generated, Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { Migration } from '../store/migration.ts';
import type { YardTask } from '../planner/yard/types.ts';

/**
 * The yard's task list as people see it: every task the yard planner proposed, what became of it (acknowledged by
 * someone, done when the vehicle showed up on the bay, skipped, or superseded by a later plan), and who and when.
 * Rows are never deleted: the list is also the record of the night.
 */

export const yardTaskStatuses = ['planned', 'acknowledged', 'done', 'skipped', 'superseded'] as const;
export type YardTaskStatus = typeof yardTaskStatuses[number];
export const openStatuses: readonly YardTaskStatus[] = ['planned', 'acknowledged'];

export const yardTaskMigrations: readonly Migration[] = [{
  name: '0440_control_yard_tasks',
  async up(db: Kysely<unknown>, dialect) {
    await dialect.addIdColumn(db.schema.createTable('yard_task'), 'id')
      .addColumn('task_id', 'text', (c) => c.notNull())
      .addColumn('depot_id', 'text', (c) => c.notNull())
      .addColumn('plan_id', 'integer')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('vehicle_id', 'text', (c) => c.notNull())
      .addColumn('bay_id', 'text', (c) => c.notNull())
      .addColumn('from_bay_id', 'text')
      .addColumn('from_kind', 'text', (c) => c.notNull())
      .addColumn('out_vehicle_id', 'text')
      .addColumn('out_ready_at', 'text')
      .addColumn('is_move', 'integer', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('acknowledged_by', 'text')
      .addColumn('acknowledged_at', 'text')
      .addColumn('closed_by', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('closed_at', 'text')
      .execute();
    await db.schema.createIndex('yard_task_depot_status').on('yard_task').columns(['depot_id', 'status', 'at']).execute();
  },
}];

export interface YardTaskRow {
  id: number;
  task_id: string;
  depot_id: string;
  plan_id: number | null;
  kind: string;
  at: string;
  vehicle_id: string;
  bay_id: string;
  from_bay_id: string | null;
  from_kind: string;
  out_vehicle_id: string | null;
  out_ready_at: string | null;
  is_move: number;
  text: string;
  status: string;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  closed_by: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

type Tables = { yard_task: Omit<YardTaskRow, 'id'> & { id: Generated<number> } };

/** A task as the API and the dashboard show it. */
export interface YardTaskView {
  id: number;
  taskId: string;
  depotId: string;
  kind: string;
  at: string;
  vehicleId: string;
  bayId: string;
  from: string;
  outVehicleId: string | null;
  outReadyAt: string | null;
  isMove: boolean;
  text: string;
  status: YardTaskStatus;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  closedBy: string | null;
  closedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export function taskView(r: YardTaskRow): YardTaskView {
  return {
    id: r.id, taskId: r.task_id, depotId: r.depot_id, kind: r.kind, at: r.at, vehicleId: r.vehicle_id, bayId: r.bay_id,
    from: r.from_kind === 'bay' ? r.from_bay_id ?? 'bay' : r.from_kind, outVehicleId: r.out_vehicle_id, outReadyAt: r.out_ready_at, isMove: r.is_move === 1,
    text: r.text, status: r.status as YardTaskStatus, acknowledgedBy: r.acknowledged_by, acknowledgedAt: r.acknowledged_at, closedBy: r.closed_by,
    closedAt: r.closed_at, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

/** What changed when a plan's tasks were stored. */
export interface TaskSync { inserted: number; updated: number; superseded: number; done: number }

export interface YardTaskStore {
  open(depotId: string): Promise<YardTaskRow[]>;
  list(filter: { depotId: string; open?: boolean; vehicleId?: string; limit: number; offset: number }): Promise<{ items: YardTaskRow[]; total: number }>;
  get(depotId: string, id: number): Promise<YardTaskRow | null>;
  /**
   * Makes the open tasks of a depot the plan's: a task id already open is updated in place (its acknowledgement
   * stays), a new one is inserted, an open one the plan dropped is superseded. `done` closes tasks first.
   */
  sync(depotId: string, planId: number | null, tasks: readonly YardTask[], done: readonly number[], at: string): Promise<TaskSync>;
  acknowledge(depotId: string, id: number, by: string, at: string): Promise<YardTaskRow | null>;
  close(depotId: string, id: number, status: 'done' | 'skipped', by: string, at: string): Promise<YardTaskRow | null>;
  /** Moves done since `sinceIso` (they count against the shift's budget). */
  movesDoneSince(depotId: string, sinceIso: string): Promise<number>;
}

const fromOf = (t: YardTask) => typeof t.from === 'string' ? { from_kind: t.from, from_bay_id: null } : { from_kind: 'bay', from_bay_id: t.from.bayId };

export function yardTaskStore(store: Store): YardTaskStore {
  const db = store.db.withTables<Tables>();
  const one = async (depotId: string, id: number) =>
    (await db.selectFrom('yard_task').selectAll().where('depot_id', '=', depotId).where('id', '=', id).executeTakeFirst()) ?? null;
  return {
    async open(depotId) {
      return db.selectFrom('yard_task').selectAll().where('depot_id', '=', depotId).where('status', 'in', [...openStatuses]).orderBy('at').orderBy('id').execute();
    },
    async list({ depotId, open, vehicleId, limit, offset }) {
      let q = db.selectFrom('yard_task').where('depot_id', '=', depotId);
      if (open === true) q = q.where('status', 'in', [...openStatuses]);
      if (open === false) q = q.where('status', 'not in', [...openStatuses]);
      if (vehicleId) q = q.where((eb) => eb.or([eb('vehicle_id', '=', vehicleId), eb('out_vehicle_id', '=', vehicleId)]));
      const items = await q.selectAll().orderBy('at').orderBy('id').limit(limit).offset(offset).execute();
      const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return { items, total: Number(n) };
    },
    get: one,
    async sync(depotId, planId, tasks, done, at) {
      return db.transaction().execute(async (trx) => {
        const result: TaskSync = { inserted: 0, updated: 0, superseded: 0, done: 0 };
        if (done.length) {
          const r = await trx.updateTable('yard_task').set({ status: 'done', closed_at: at, closed_by: 'control', updated_at: at })
            .where('depot_id', '=', depotId).where('id', 'in', [...done]).where('status', 'in', [...openStatuses]).executeTakeFirst();
          result.done = Number(r.numUpdatedRows);
        }
        const open = await trx.selectFrom('yard_task').selectAll().where('depot_id', '=', depotId).where('status', 'in', [...openStatuses]).execute();
        const byTask = new Map(open.map((r) => [r.task_id, r]));
        const wanted = new Set(tasks.map((t) => t.id));
        for (const t of tasks) {
          const fields = {
            plan_id: planId, kind: t.kind, at: new Date(t.atMs).toISOString(), vehicle_id: t.vehicleId, bay_id: t.bayId, ...fromOf(t),
            out_vehicle_id: t.out?.vehicleId ?? null, out_ready_at: t.out ? new Date(t.out.readyAtMs).toISOString() : null, is_move: t.isMove ? 1 : 0, text: t.text,
          };
          const row = byTask.get(t.id);
          if (row) {
            const changed = row.at !== fields.at || row.bay_id !== fields.bay_id || row.text !== fields.text || row.kind !== fields.kind || row.out_vehicle_id !== fields.out_vehicle_id || row.from_kind !== fields.from_kind || row.from_bay_id !== fields.from_bay_id;
            if (!changed) continue;
            await trx.updateTable('yard_task').set({ ...fields, updated_at: at }).where('id', '=', row.id).where('status', 'in', [...openStatuses]).execute();
            result.updated++;
          } else {
            await trx.insertInto('yard_task').values({
              task_id: t.id, depot_id: depotId, ...fields, status: 'planned', acknowledged_by: null, acknowledged_at: null, closed_by: null, created_at: at, updated_at: at, closed_at: null,
            }).execute();
            result.inserted++;
          }
        }
        const gone = open.filter((r) => !wanted.has(r.task_id)).map((r) => r.id);
        if (gone.length) {
          // Only what is still open: a person may have closed one since it was read.
          await trx.updateTable('yard_task').set({ status: 'superseded', closed_at: at, closed_by: 'control', updated_at: at }).where('id', 'in', gone).where('status', 'in', [...openStatuses]).execute();
          result.superseded = gone.length;
        }
        return result;
      });
    },
    async acknowledge(depotId, id, by, at) {
      await db.updateTable('yard_task').set({ status: 'acknowledged', acknowledged_by: by, acknowledged_at: at, updated_at: at })
        .where('depot_id', '=', depotId).where('id', '=', id).where('status', '=', 'planned').execute();
      return one(depotId, id);
    },
    async close(depotId, id, status, by, at) {
      await db.updateTable('yard_task').set({ status, closed_by: by, closed_at: at, updated_at: at })
        .where('depot_id', '=', depotId).where('id', '=', id).where('status', 'in', [...openStatuses]).execute();
      return one(depotId, id);
    },
    async movesDoneSince(depotId, sinceIso) {
      const { n } = await db.selectFrom('yard_task').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('depot_id', '=', depotId).where('status', '=', 'done').where('is_move', '=', 1).where('closed_at', '>=', sinceIso).executeTakeFirstOrThrow();
      return Number(n);
    },
  };
}
