/**
 * Failed station logins per remote address. Each password check is a 16 MB scrypt on the libuv pool, so an address
 * that keeps failing could both guess passwords online and keep the pool busy for everyone else. Past `maxFailures`
 * failures, each within `windowMs` of the one before, the address is refused without a check until `windowMs` after
 * its last failure; a refused attempt does not extend that. Keyed by address, not by station id: keyed by station, a
 * stranger could lock a real charger out with wrong passwords.
 */
export interface AuthThrottleOptions {
  readonly maxFailures: number;
  readonly windowMs: number;
  /** Addresses remembered at most; the stalest are forgotten first (a spoofed-source flood cannot grow the map). */
  readonly maxAddresses: number;
}

export const defaultAuthThrottle: AuthThrottleOptions = { maxFailures: 5, windowMs: 60_000, maxAddresses: 10_000 };

interface Failures {
  count: number;
  lastMs: number;
}

export class AuthThrottle {
  readonly #options: AuthThrottleOptions;
  /** Insertion order is last-failure order: a failure re-inserts its address at the end. */
  readonly #byAddress = new Map<string, Failures>();

  constructor(options: AuthThrottleOptions = defaultAuthThrottle) {
    this.#options = options;
  }

  /** Whether attempts from `address` are refused unchecked at `nowMs`. */
  blocked(address: string, nowMs: number): boolean {
    const f = this.#byAddress.get(address);
    if (!f) return false;
    if (nowMs - f.lastMs >= this.#options.windowMs) {
      this.#byAddress.delete(address);
      return false;
    }
    return f.count >= this.#options.maxFailures;
  }

  failed(address: string, nowMs: number): void {
    const f = this.#byAddress.get(address);
    const count = f && nowMs - f.lastMs < this.#options.windowMs ? f.count + 1 : 1;
    this.#byAddress.delete(address);
    this.#byAddress.set(address, { count, lastMs: nowMs });
    if (this.#byAddress.size > this.#options.maxAddresses) {
      const stalest = this.#byAddress.keys().next().value;
      if (stalest !== undefined) this.#byAddress.delete(stalest);
    }
  }

  /** A login that proved itself clears the address's failures. */
  succeeded(address: string): void {
    this.#byAddress.delete(address);
  }
}
