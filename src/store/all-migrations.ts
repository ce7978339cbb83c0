import type { Migration } from './migration.ts';

/**
 * Every context's migrations in the order they apply. Each context owns its file; this list only orders them.
 * Number ranges: 01xx ocpp, 02xx fleet, 03xx telematics, 04xx control, 05xx energy, 06xx api.
 */
export const allMigrations: readonly Migration[] = ([] as Migration[]).concat(
).sort((a, b) => a.name.localeCompare(b.name));
