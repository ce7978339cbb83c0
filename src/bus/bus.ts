import type { Logger } from '../log.ts';
import type { Clock } from '../clock.ts';
import type { DomainEvent } from './events.ts';

export type EventType = DomainEvent['type'];
export type EventOf<T extends EventType> = Extract<DomainEvent, { type: T }>;
export type Handler<E> = (event: E) => void | Promise<void>;

/**
 * How contexts tell each other what happened. In-process by default; the cluster bus (NATS) implements the same
 * interface. Handlers run after `publish` returns (never re-entrantly inside the publisher's stack), one event at a
 * time in publish order, and a failing handler is logged without stopping the others.
 */
export interface Bus {
  publish(event: DomainEvent): void;
  subscribe<T extends EventType>(type: T, handler: Handler<EventOf<T>>): () => void;
  subscribeAll(handler: Handler<DomainEvent>): () => void;
  /** Resolves when every event published so far has been handled. */
  drain(): Promise<void>;
}

/** `clock`: while events are being handled a virtual clock is held, so simulated time never skips their handling. */
export function createInProcessBus(logger: Logger, clock?: Clock): Bus {
  const log = logger.child({ module: 'bus' });
  const byType = new Map<string, Set<Handler<DomainEvent>>>();
  const all = new Set<Handler<DomainEvent>>();
  const queue: DomainEvent[] = [];
  let running: Promise<void> | null = null;

  async function run(): Promise<void> {
    const release = clock?.hold?.();
    while (queue.length > 0) {
      const event = queue.shift()!;
      for (const handlers of [byType.get(event.type), all]) {
        if (!handlers) continue;
        for (const handler of handlers) {
          try {
            // Only a handler that returned a promise is waited for: thousands of meter samples a second each pass
            // every handler, and awaiting a plain return costs a turn of the microtask queue each time.
            const pending = handler(event);
            if (pending) await pending;
          } catch (err) {
            log.error({ err, eventType: event.type }, 'event handler failed');
          }
        }
      }
    }
    running = null;
    release?.();
  }

  return {
    publish(event) {
      queue.push(event);
      running ??= Promise.resolve().then(run);
    },
    subscribe(type, handler) {
      let set = byType.get(type);
      if (!set) byType.set(type, set = new Set());
      set.add(handler as Handler<DomainEvent>);
      return () => set.delete(handler as Handler<DomainEvent>);
    },
    subscribeAll(handler) {
      all.add(handler);
      return () => all.delete(handler);
    },
    async drain() {
      while (running) await running;
    },
  };
}
