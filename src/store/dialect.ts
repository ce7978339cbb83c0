import type { CreateTableBuilder } from 'kysely';

export type DialectName = 'sqlite' | 'postgres';

/**
 * The few places where SQLite and PostgreSQL DDL differ, so every migration is written once.
 * Conventions for all tables: instants are ISO-8601 UTC text (they sort as text), booleans are integer 0/1,
 * fractional quantities are `double precision`, JSON is text.
 */
export interface Dialect {
  readonly name: DialectName;
  /** An auto-numbered integer primary key (OCPP 1.6 transaction ids must be integers). */
  addIdColumn<T extends string, C extends string>(table: CreateTableBuilder<T, C>, column: string): CreateTableBuilder<T, C>;
}

export function dialectFor(name: DialectName): Dialect {
  return {
    name,
    addIdColumn(table, column) {
      return name === 'sqlite'
        ? table.addColumn(column, 'integer', (c) => c.primaryKey().autoIncrement())
        : table.addColumn(column, 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity());
    },
  };
}
