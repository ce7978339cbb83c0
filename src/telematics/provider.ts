import type { ReadingDraft } from './reading.ts';

/**
 * Small capability interfaces, one job each (the evcc way). A provider file builds an object that implements the
 * ones its vendor supports; ingestion and the poller only see these. Vendor payload types never leave the file.
 */

/** Decoder turns one vendor payload unit into readings in domain units (percent, km, km/h, kWh); throws DecodeError when it cannot. */
export interface Decoder {
  decode(unit: unknown): ReadingDraft[];
}

export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body exactly as received: signatures are computed over these bytes. */
  readonly rawBody: string;
  /** Epoch ms, from the server clock. */
  readonly nowMs: number;
}

export type WebhookOutcome =
  /** A setup handshake: answer with this JSON body and ingest nothing. */
  | { readonly kind: 'challenge'; readonly response: Record<string, unknown> }
  /** Authentic and fresh: the payload units it carries, and the delivery id when the vendor gives one (replay guard). */
  | { readonly kind: 'units'; readonly units: unknown[]; readonly deliveryId: string | null }
  /** Not signed, badly signed or too old: answered 401 and logged. */
  | { readonly kind: 'rejected'; readonly reason: string };

/** WebhookReceiver checks that a pushed request is authentic and fresh and splits it into payload units. */
export interface WebhookReceiver {
  receive(request: WebhookRequest): WebhookOutcome;
}

/** Poller fetches the payload units that changed since `cursor` (null = from now) and the cursor to continue from. */
export interface Poller {
  /** Pause between polls when the vendor has nothing more, in ms. */
  readonly intervalMs: number;
  poll(cursor: string | null, signal: AbortSignal): Promise<PollResult>;
}

export interface PollResult {
  readonly units: unknown[];
  readonly cursor: string | null;
  /** True when the vendor said more is waiting (poll again at once). */
  readonly more: boolean;
}

/**
 * Subscriber receives payload units as they are pushed over a connection it holds (MQTT). `onUnit` settles when the
 * unit is stored (or quarantined); the subscriber acknowledges to the source only then, so a failed write (a
 * rejection) is delivered again.
 */
export interface Subscriber {
  start(onUnit: (unit: unknown) => Promise<void>, onError: (err: Error) => void): Promise<void>;
  stop(): Promise<void>;
}

/** A configured provider instance: always a decoder, plus whichever ways of receiving data it supports. */
export interface Provider {
  readonly id: string;
  readonly kind: ProviderKind;
  readonly tenantId: string;
  readonly decoder: Decoder;
  readonly webhook?: WebhookReceiver;
  readonly poller?: Poller;
  readonly subscriber?: Subscriber;
}

export const providerKinds = ['smartcar', 'samsara', 'geotab', 'tesla', 'webhook', 'mqtt'] as const;
export type ProviderKind = typeof providerKinds[number];

/** The vendor asked us to slow down (HTTP 429): wait `retryAfterMs` before the next call. */
export class RateLimitedError extends Error {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message = `rate limited; retry after ${Math.round(retryAfterMs / 1000)} s`) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The vendor refused our credentials: retrying will not help until an operator fixes them. */
export class AuthError extends Error {}

/** Retry-After as seconds or an HTTP date; a missing or unreadable header means `fallbackMs`. */
export function retryAfterMs(header: string | null, nowMs: number, fallbackMs = 60_000): number {
  if (!header) return fallbackMs;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const t = Date.parse(header);
  return Number.isFinite(t) ? Math.max(0, t - nowMs) : fallbackMs;
}

/** Shared HTTP step for polling adapters: one request, vendor errors turned into the errors the poller understands. */
export async function fetchJson(url: string, init: RequestInit, nowMs: () => number, what: string): Promise<unknown> {
  return readJson(await fetch(url, init), nowMs, what);
}

export async function readJson(response: Response, nowMs: () => number, what: string): Promise<unknown> {
  if (response.status === 429) {
    await response.body?.cancel();
    throw new RateLimitedError(retryAfterMs(response.headers.get('retry-after'), nowMs()));
  }
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel();
    throw new AuthError(`${what}: HTTP ${response.status} (check the credentials)`);
  }
  const body = await response.text();
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${body.slice(0, 200)}`);
  try {
    return JSON.parse(body);
  } catch {
    throw new Error(`${what}: response is not JSON`);
  }
}
