import type { Migration } from './migration.ts';
import { ocppMigrations } from '../ocpp/migrations.ts';
import { tokenMigrations } from '../fleet/tokens.ts';
import { vehicleMigrations } from '../fleet/vehicles.ts';
import { depotMigrations } from '../fleet/depots.ts';
import { controlMigrations } from '../control/records.ts';
import { telematicsMigrations } from '../telematics/migrations.ts';
import { apiKeyMigrations } from '../api/keys.ts';
import { auditMigrations } from '../api/audit.ts';
import { blockMigrations } from '../fleet/blocks.ts';
import { yardMigrations } from '../fleet/yard.ts';
import { yardTaskMigrations } from '../control/yard-tasks.ts';

/**
 * Every context's migrations in the order they apply. Each context owns its file; this list only orders them.
 * Number ranges: 01xx ocpp, 02xx fleet, 03xx telematics, 04xx control, 05xx energy, 06xx api.
 */
export const allMigrations: readonly Migration[] = ([] as Migration[]).concat(
  ocppMigrations,
  tokenMigrations,
  vehicleMigrations,
  depotMigrations,
  controlMigrations,
  telematicsMigrations,
  apiKeyMigrations,
  auditMigrations,
  blockMigrations,
  yardMigrations,
  yardTaskMigrations,
).sort((a, b) => a.name.localeCompare(b.name));
