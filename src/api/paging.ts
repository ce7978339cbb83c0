/** The schemas every list route shares: `limit`/`offset` in, `items`/`total`/`limit`/`offset` out. */

export interface Page {
  limit: number;
  offset: number;
}

export const problems = { 400: { $ref: 'Problem#' }, 401: { $ref: 'Problem#' }, 403: { $ref: 'Problem#' }, 404: { $ref: 'Problem#' }, 409: { $ref: 'Problem#' } } as const;

export function pageQuery(extra: Record<string, unknown> = {}) {
  return {
    type: 'object', additionalProperties: false,
    properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, offset: { type: 'integer', minimum: 0, default: 0 }, ...extra },
  } as const;
}

export function pageResult(item: unknown) {
  return { type: 'object', properties: { items: { type: 'array', items: item }, total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } } } as const;
}

/** Pages a list already in memory (small per-depot lists: circuits, chargers). */
export function pageOf<T>(all: readonly T[], page: Page): { items: T[]; total: number; limit: number; offset: number } {
  return { items: all.slice(page.offset, page.offset + page.limit), total: all.length, limit: page.limit, offset: page.offset };
}
