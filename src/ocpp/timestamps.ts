/** `YYYY-MM-DDTHH:MM:SS.mmmZ`: already the stored form. */
const canonical = /^\d{4}-\d\d-\d\dT\d\d:\d\d:[0-5]\d\.\d{3}Z$/;

/**
 * A station's timestamp (schema-checked `date-time`, any offset or precision) as stored: ISO-8601 UTC with
 * milliseconds. Most chargers already send that form; it is returned as it is, without a parse and a format per
 * frame (the schema check has rejected impossible dates such as 30 February; a leap second, 60, takes the long way).
 */
export function utcIso(timestamp: string): string {
  return canonical.test(timestamp) ? timestamp : new Date(timestamp).toISOString();
}
