import type { Logger } from '../log.ts';
import type { Clock, ClockTimer } from '../clock.ts';
import type { DomainEvent } from '../bus/events.ts';
import type { CentralSystem, StationCommand } from '../ocpp/index.ts';
import { CommandError } from '../ocpp/commands.ts';
import type { TokenRegistry } from '../fleet/tokens.ts';
import type { DepotFleet, DepotCharger, FleetStore, OperatingMode } from '../fleet/depots.ts';
import { plan as runPlanner, PlannerInputError, type Plan } from '../planner/index.ts';
import { buildSnapshot, nextDeparture, type LiveSession, type Override, type VehicleSoc } from './snapshot.ts';
import { defaultCapabilities, failSafeProfiles, failSafeShares, leaseMs, leaseProfile, limitAt, limitSteps, limitToKw, peakOf, stepsDiffer, txProfile, type ChargerCapabilities, type LimitSteps } from './profiles.ts';
import { evaluateAlerts } from './alerts.ts';
import type { ControlRecords } from './records.ts';
import type { YardLoop } from './yard.ts';

/**
 * The loop for one depot: folds events into live state, re-plans (coalesced), turns the plan into charging profiles,
 * pushes what changed, verifies, and raises alerts. All timing goes through the injected clock.
 */

export interface ControllerDeps {
  readonly depotId: string;
  readonly fleetStore: FleetStore;
  readonly records: ControlRecords;
  readonly tokens: TokenRegistry;
  readonly central: CentralSystem | null;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The vehicle assigned to this EVSE's bay, if any. */
  readonly bayVehicle?: (stationId: string, evseId: number) => Promise<string | null>;
  /** Bays and yard moves for depots with a move policy (yard.ts); the others plan the bays as they are. */
  readonly yard?: YardLoop;
}

interface ChargerState { online: boolean; status: string | null; errorCode: string | null }
interface Applied { steps: LimitSteps; transactionId: string; atMs: number; seq: number }
interface Pending { chargerId: string; steps: LimitSteps; transactionId: string; plannedAtMs: number }

/** Coalescing: a burst of events gives one re-plan; nobody waits longer than maxWait for theirs. */
const debounceMs = 400;
const maxWaitMs = 1500;
/** An increase is pushed at most this often per charger; decreases go at once (they protect the site). */
const minPushIntervalMs = 10_000;
const verifyAfterMs = 3_000;
/** Meter samples above the limit after this long mean the charger is not following its profile. */
const responseDelayMs = 30_000;
const unusableStatuses = new Set(['Faulted', 'Unavailable']);

const once = (release: (() => void) | undefined) => {
  let done = false;
  return () => { if (!done) { done = true; release?.(); } };
};

export class DepotController {
  readonly depotId: string;
  readonly #d: ControllerDeps;
  readonly #log: Logger;
  #fleet: DepotFleet | null = null;
  #chargerOf = new Map<string, DepotCharger>();
  readonly sessions = new Map<string, LiveSession>();
  readonly chargerState = new Map<string, ChargerState>();
  readonly soc = new Map<string, VehicleSoc>();
  readonly overrides = new Map<string, Override>();
  readonly #caps = new Map<string, ChargerCapabilities>();
  readonly #applied = new Map<string, Applied>();
  /** The schedule a charger had when it went offline: it keeps running it. */
  readonly #lastApplied = new Map<string, Applied>();
  readonly #lastPushMs = new Map<string, number>();
  readonly pending = new Map<string, Pending>();
  /** Station maximum above the fail-safe share, per station, and until when it holds. */
  readonly #leases = new Map<string, { kw: number; untilMs: number }>();
  /**
   * A station that connects and then boots raises two "up" events at once; their fail-safe sequences must not
   * interleave (the charger would get max, max, default, default). One runs at a time per station; events that arrive
   * meanwhile fold into one more run after it.
   */
  readonly #stationUps = new Map<string, { running: Promise<void>; again: string | null }>();
  #pushSeq = 0;
  #deferred = false;
  readonly #notApplied = new Map<string, string>();
  readonly #drift = new Map<string, number>();
  readonly #overLimit = new Map<string, number>();
  readonly #socDrops = new Map<string, { fromPercent: number; toPercent: number; atMs: number }>();
  readonly #plugReadings = new Map<string, number>();
  /** Per session: the first SoC seen with the meter then, to learn the vehicle's charging efficiency. */
  readonly #socBase = new Map<string, { socPercent: number; energyKwh: number }>();
  readonly efficiency = new Map<string, number>();
  plan: Plan | null = null;
  planId: number | null = null;
  #live: ReadonlyMap<string, LiveSession> = new Map();
  #replanTimer: ClockTimer | null = null;
  #firstRequestMs = 0;
  #triggers: string[] = [];
  #slotTimer: ClockTimer | null = null;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;
  readonly #timers = new Set<ClockTimer>();
  readonly #inFlight = new Set<Promise<unknown>>();
  replans = 0;

  constructor(deps: ControllerDeps) {
    this.depotId = deps.depotId;
    this.#d = deps;
    this.#log = deps.logger.child({ module: 'control', depotId: deps.depotId });
  }

  get fleet(): DepotFleet | null { return this.#fleet; }
  get mode(): OperatingMode { return this.#fleet?.depot.mode ?? 'shadow'; }
  #now(): number { return this.#d.clock.now(); }

  #track(p: Promise<unknown>): void {
    const q = p.catch((err) => this.#log.error({ err }, 'control task failed'));
    this.#inFlight.add(q);
    void q.finally(() => this.#inFlight.delete(q));
  }

  /** A timer that dies with the controller; its work is awaited at shutdown. */
  #later(fn: () => Promise<unknown> | void, ms: number): void {
    if (this.#stopped) return;
    const t = this.#d.clock.setTimeout(() => {
      this.#timers.delete(t);
      if (this.#stopped) return;
      this.#track(Promise.resolve(fn()));
    }, ms);
    t.unref?.();
    this.#timers.add(t);
  }
  #iso(ms = this.#now()): string { return new Date(ms).toISOString(); }

  /** Loads the configuration and rebuilds live state from the store and the chargers (after a restart too). */
  async start(): Promise<void> {
    await this.reload();
    const central = this.#d.central;
    if (!central || !this.#fleet) return;
    for (const ch of this.#fleet.chargers) {
      const station = await central.station(ch.stationId);
      const c = station?.connectors.find((x) => x.connectorId === ch.evseId);
      this.chargerState.set(ch.id, { online: station?.online ?? false, status: c?.status ?? null, errorCode: c?.errorCode ?? null });
    }
    const stationIds = new Set(this.#fleet.chargers.map((c) => c.stationId));
    for (let offset = 0; ; offset += 500) {
      const page = await central.transactions({ active: true, limit: 500, offset });
      for (const tx of page.items) {
        if (!stationIds.has(tx.stationId) || tx.connectorId === null || !tx.known) continue;
        const charger = this.#chargerAt(tx.stationId, tx.connectorId);
        if (!charger) continue;
        await this.#addSession(charger, String(tx.id), tx.idTag, Date.parse(tx.startedAt ?? this.#iso()), tx.meterStartKwh ?? 0);
      }
      if (page.items.length < 500) break;
    }
    // Ask every online station for fresh state, then re-apply everything (we do not know what survived).
    for (const stationId of stationIds) {
      if (this.#stationOnline(stationId)) this.#track(this.#onStationUp(stationId, 'restart'));
    }
    this.requestReplan('start');
  }

  async reload(): Promise<void> {
    this.#fleet = await this.#d.fleetStore.load(this.depotId);
    this.#chargerOf = new Map((this.#fleet?.chargers ?? []).map((c) => [`${c.stationId}#${c.evseId}`, c]));
  }

  #chargerAt(stationId: string, evseId: number | null): DepotCharger | undefined {
    return evseId === null ? undefined : this.#chargerOf.get(`${stationId}#${evseId}`);
  }
  #stationChargers(stationId: string): DepotCharger[] {
    return (this.#fleet?.chargers ?? []).filter((c) => c.stationId === stationId);
  }
  #stationOnline(stationId: string): boolean {
    return this.#stationChargers(stationId).some((c) => this.chargerState.get(c.id)?.online);
  }
  #usable(): Set<string> {
    const usable = new Set<string>();
    for (const c of this.#fleet?.chargers ?? []) {
      const s = this.chargerState.get(c.id);
      if (s?.online && !unusableStatuses.has(s.status ?? '')) usable.add(c.id);
    }
    return usable;
  }

  /** Every domain event goes through here; those about other depots' stations are ignored. */
  async handle(event: DomainEvent): Promise<void> {
    if (this.#stopped || !this.#fleet) return;
    switch (event.type) {
      case 'StationConnected':
      case 'StationDisconnected':
      case 'StationBooted': {
        const chargers = this.#stationChargers(event.stationId);
        if (chargers.length === 0) return;
        const online = event.type !== 'StationDisconnected';
        for (const c of chargers) this.chargerState.set(c.id, { ...(this.chargerState.get(c.id) ?? { status: null, errorCode: null }), online });
        if (event.type === 'StationDisconnected') {
          // A reconnect re-applies; until then it runs what it has, which the plan keeps room for.
          for (const c of chargers) {
            const a = this.#applied.get(c.id);
            if (a) this.#lastApplied.set(c.id, a);
            this.#applied.delete(c.id);
          }
          this.requestReplan(`${event.stationId} offline`);
        } else if (event.type === 'StationConnected' || event.registration === 'Accepted') {
          this.#track(this.#onStationUp(event.stationId, event.type === 'StationConnected' ? 'connected' : 'booted'));
          this.requestReplan(`${event.stationId} ${event.type === 'StationConnected' ? 'connected' : 'booted'}`);
        }
        return;
      }
      case 'ConnectorStatusChanged': {
        const charger = this.#chargerAt(event.stationId, event.evseId);
        if (!charger) return;
        const before = this.chargerState.get(charger.id);
        this.chargerState.set(charger.id, { online: before?.online ?? true, status: event.status, errorCode: event.errorCode });
        if (unusableStatuses.has(event.status) !== unusableStatuses.has(before?.status ?? '')) this.requestReplan(`${charger.id} ${event.status}`);
        return;
      }
      case 'SessionStarted': {
        const charger = this.#chargerAt(event.stationId, event.evseId);
        if (!charger) return;
        await this.#addSession(charger, event.transactionId, event.idToken, Date.parse(event.at), event.meterStartKwh);
        this.requestReplan(`session started on ${charger.id}`);
        return;
      }
      case 'SessionEnded': {
        for (const [chargerId, s] of this.sessions) {
          if (s.stationId === event.stationId && s.transactionId === event.transactionId) {
            this.sessions.delete(chargerId);
            this.#applied.delete(chargerId);
            this.#lastApplied.delete(chargerId);
            this.pending.delete(chargerId);
            this.#overLimit.delete(chargerId);
            this.#socBase.delete(s.transactionId);
            this.requestReplan(`session ended on ${chargerId}`);
          }
        }
        return;
      }
      case 'MeterSampled': {
        const charger = this.#chargerAt(event.stationId, event.evseId);
        const s = charger ? this.sessions.get(charger.id) : undefined;
        if (!charger || !s) return;
        const at = Date.parse(event.at);
        if (event.energyKwh !== null) s.energyKwh = event.energyKwh;
        if (event.powerKw !== null) {
          s.powerKw = event.powerKw;
          s.powerAtMs = at;
          if (event.powerKw > 0.1) s.lastFlowAtMs = at;
          this.#checkFollowing(charger, s, at);
        }
        if (event.socPercent !== null && s.vehicleId) {
          this.#learnEfficiency(s, event.socPercent);
          this.#updateSoc(s.vehicleId, event.socPercent, at, 'charger');
        }
        return;
      }
      case 'EvChargingNeedsReported': {
        const charger = this.#chargerAt(event.stationId, event.evseId);
        const s = charger ? this.sessions.get(charger.id) : undefined;
        if (!charger || !s) return;
        // AC limits come as current per phase; the nominal 230 V makes them power.
        const acKw = event.currentType === 'AC' && event.maxCurrentA !== null ? event.maxCurrentA * 230 * (event.phases ?? 1) / 1000 : null;
        s.needs = {
          energyKwh: event.energyRequestKwh, departureMs: event.departureAt ? Date.parse(event.departureAt) : null,
          maxPowerKw: event.maxPowerKw ?? acKw, meterKwh: s.energyKwh,
        };
        if (event.socPercent !== null && s.vehicleId) this.#updateSoc(s.vehicleId, event.socPercent, Date.parse(event.at), 'charger');
        this.requestReplan(`${charger.id}: the vehicle reported its charging needs`);
        return;
      }
      case 'VehicleReading': {
        const at = Date.parse(event.at);
        if (event.socPercent !== null) this.#updateSoc(event.vehicleId, event.socPercent, at, 'telematics');
        if (event.pluggedIn) {
          this.#plugReadings.set(event.vehicleId, at);
          await this.#identifyLate(event.vehicleId, at);
        }
        return;
      }
    }
  }

  async #addSession(charger: DepotCharger, transactionId: string, idToken: string | null, startedAtMs: number, meterStartKwh: number): Promise<void> {
    const s: LiveSession = {
      chargerId: charger.id, stationId: charger.stationId, evseId: charger.evseId, transactionId, idToken, vehicleId: null, identifiedBy: 'unknown',
      startedAtMs, meterStartKwh, energyKwh: null, powerKw: null, powerAtMs: null, lastFlowAtMs: null,
    };
    const vehicles = new Set((this.#fleet?.vehicles ?? []).map((v) => v.vehicleId));
    const elsewhere = new Set([...this.sessions.values()].map((x) => x.vehicleId));
    // 1. the token says who it is
    if (idToken) {
      const token = await this.#d.tokens.get(idToken);
      if (token?.vehicleId && vehicles.has(token.vehicleId)) [s.vehicleId, s.identifiedBy] = [token.vehicleId, 'token'];
    }
    // 2. the bay is assigned to a vehicle, or planned for one due about now
    if (!s.vehicleId && this.#d.bayVehicle) {
      const assigned = await this.#d.bayVehicle(charger.stationId, charger.evseId);
      if (assigned && vehicles.has(assigned) && !elsewhere.has(assigned)) [s.vehicleId, s.identifiedBy] = [assigned, 'bay'];
    }
    if (!s.vehicleId) {
      const due = (this.#fleet?.departures ?? [])
        .filter((d) => d.chargerId === charger.id && d.arrivalMs !== null && Math.abs(d.arrivalMs - startedAtMs) <= 2 * 3_600_000 && d.departureMs > startedAtMs && !elsewhere.has(d.vehicleId))
        .sort((a, b) => Math.abs(a.arrivalMs! - startedAtMs) - Math.abs(b.arrivalMs! - startedAtMs));
      if (due[0]) [s.vehicleId, s.identifiedBy] = [due[0].vehicleId, 'bay'];
    }
    // 3. exactly one vehicle told its telematics it plugged in around now
    if (!s.vehicleId) {
      const candidates = [...this.#plugReadings].filter(([v, at]) => Math.abs(at - startedAtMs) <= 120_000 && !elsewhere.has(v) && vehicles.has(v));
      if (candidates.length === 1) [s.vehicleId, s.identifiedBy] = [candidates[0][0], 'telematics'];
    }
    this.sessions.set(charger.id, s);
    this.#log.info({ chargerId: charger.id, transactionId, vehicleId: s.vehicleId, identifiedBy: s.identifiedBy }, 'session joined the plan');
  }

  async #identifyLate(vehicleId: string, atMs: number): Promise<void> {
    if ([...this.sessions.values()].some((s) => s.vehicleId === vehicleId)) return;
    if (!(this.#fleet?.vehicles ?? []).some((v) => v.vehicleId === vehicleId)) return;
    const unknown = [...this.sessions.values()].filter((s) => s.identifiedBy === 'unknown' && Math.abs(s.startedAtMs - atMs) <= 120_000);
    if (unknown.length !== 1) return;
    unknown[0].vehicleId = vehicleId;
    unknown[0].identifiedBy = 'telematics';
    this.requestReplan(`${vehicleId} identified by telematics`);
  }

  /** SoC gained × battery size ÷ metered energy, once enough has flowed to say (clamped to what chargers do). */
  #learnEfficiency(s: LiveSession, socPercent: number): void {
    if (s.energyKwh === null || !s.vehicleId) return;
    const base = this.#socBase.get(s.transactionId);
    if (!base) { this.#socBase.set(s.transactionId, { socPercent, energyKwh: s.energyKwh }); return; }
    const meteredKwh = s.energyKwh - base.energyKwh;
    const batteryKwh = this.#fleet?.vehicles.find((v) => v.vehicleId === s.vehicleId)?.batteryKwh;
    if (!batteryKwh || meteredKwh < 2) return;
    const eff = (socPercent - base.socPercent) / 100 * batteryKwh / meteredKwh;
    if (Number.isFinite(eff)) this.efficiency.set(s.vehicleId, Math.min(1, Math.max(0.75, eff)));
  }

  #updateSoc(vehicleId: string, socPercent: number, atMs: number, source: VehicleSoc['source']): void {
    const before = this.soc.get(vehicleId);
    if (before && before.atMs > atMs) return;
    this.soc.set(vehicleId, { socPercent, atMs, source });
    const plugged = [...this.sessions.values()].some((s) => s.vehicleId === vehicleId);
    if (before && plugged && socPercent < before.socPercent - 5) {
      this.#socDrops.set(vehicleId, { fromPercent: before.socPercent, toPercent: socPercent, atMs });
    }
    const planned = this.plan?.sessions.find((p) => this.#live.get(p.sessionId)?.vehicleId === vehicleId);
    if (plugged && (!before || Math.abs(socPercent - before.socPercent) >= 2 || !planned)) this.requestReplan(`${vehicleId} SoC ${socPercent}%`);
  }

  /** The charger draws more than its limit long after we set it: it is not following (or never got) its profile. */
  #checkFollowing(charger: DepotCharger, s: LiveSession, atMs: number): void {
    const applied = this.#applied.get(charger.id);
    if (!applied || atMs - applied.atMs < responseDelayMs || s.powerKw === null) return;
    const limit = limitAt(applied.steps, atMs);
    if (limit === null || s.powerKw <= limit + Math.max(0.5, 0.1 * limit)) { this.#overLimit.delete(charger.id); return; }
    const count = (this.#overLimit.get(charger.id) ?? 0) + 1;
    this.#overLimit.set(charger.id, count);
    if (count >= 2) {
      this.#overLimit.delete(charger.id);
      this.#noteDrift(charger, `draws ${s.powerKw.toFixed(1)} kW against a limit of ${limit.toFixed(1)} kW`);
    }
  }

  #noteDrift(charger: DepotCharger, why: string): void {
    const n = (this.#drift.get(charger.id) ?? 0) + 1;
    this.#drift.set(charger.id, n);
    if (n >= 3) {
      // Re-sending more will not help: a person has to look at this charger. The next plan change tries again.
      this.#notApplied.set(charger.id, why);
      this.#log.warn({ chargerId: charger.id, why, attempts: n }, 'charger does not follow its profile');
      return;
    }
    this.#applied.delete(charger.id);
    this.#log.warn({ chargerId: charger.id, why, attempts: n }, 'charger drifted from its profile; re-applying');
    this.#track(this.#reconcile(this.planId, charger.id));
  }

  requestReplan(trigger: string): void {
    if (this.#stopped) return;
    this.#triggers.push(trigger);
    const now = this.#now();
    if (this.#replanTimer) {
      if (now - this.#firstRequestMs >= maxWaitMs - debounceMs) return;
      this.#d.clock.clearTimeout(this.#replanTimer);
    } else {
      this.#firstRequestMs = now;
    }
    this.#replanTimer = this.#d.clock.setTimeout(() => {
      this.#replanTimer = null;
      const triggers = this.#triggers.splice(0);
      // Virtual time waits for the planning itself, not for the chargers' answers (those need time to move).
      const release = once(this.#d.clock.hold?.());
      this.#running = this.#running.then(() => this.#replan(triggers, release)).catch((err) => this.#log.error({ err }, 're-plan failed')).finally(release);
    }, debounceMs);
    this.#replanTimer.unref?.();
  }

  /** Resolves when the re-plans requested so far have run. */
  async settled(): Promise<void> {
    while (this.#replanTimer) await new Promise((r) => setTimeout(r, 20));
    await this.#running;
  }

  async #replan(triggers: string[], release: () => void = () => undefined): Promise<void> {
    if (this.#stopped) return;
    await this.reload();
    const fleet = this.#fleet;
    if (!fleet) return;
    const nowMs = this.#now();
    const usable = this.#usable();
    const shares = failSafeShares(fleet);
    const chargerById = new Map(fleet.chargers.map((c) => [c.id, c]));
    const uncontrolled = (chargerId: string, atMs: number) => {
      const applied = this.#applied.get(chargerId) ?? this.#lastApplied.get(chargerId);
      const limit = applied ? limitAt(applied.steps, atMs) : null;
      const charger = chargerById.get(chargerId)!;
      const share = (shares.get(charger.stationId) ?? charger.maxPowerKw) / Math.max(1, this.#stationChargers(charger.stationId).length);
      const lease = this.#leases.get(charger.stationId);
      return limit === null ? share : lease && atMs < lease.untilMs ? limit : Math.min(limit, share);
    };
    const view = { sessions: [...this.sessions.values()], usableChargers: usable, soc: this.soc, overrides: this.overrides, efficiency: this.efficiency };
    const started = performance.now();
    const yard = await this.#d.yard?.replan(fleet, view, nowMs, uncontrolled) ?? null;
    const ordinary = yard ? null : buildSnapshot(fleet, view, nowMs, uncontrolled);
    const { snapshot, live } = yard ?? ordinary!;
    let plan: Plan;
    try {
      plan = yard?.plan ?? runPlanner(ordinary!.snapshot, nowMs, this.plan ? { previous: this.plan } : {});
    } catch (err) {
      if (err instanceof PlannerInputError) {
        this.#log.error({ err: err.message, triggers }, 'the depot configuration cannot be planned; keeping the last plan');
        return;
      }
      throw err;
    }
    const planningMs = performance.now() - started;
    this.plan = plan;
    this.#live = live;
    this.replans++;
    const trigger = [...new Set(triggers)].slice(0, 5).join('; ') + (triggers.length > 5 ? ` (+${triggers.length - 5} more)` : '');
    this.planId = await this.#d.records.savePlan({ depotId: this.depotId, at: this.#iso(nowMs), trigger, mode: this.mode, planningMs, snapshot, plan });
    if (this.replans % 50 === 0) await this.#d.records.prunePlans(this.depotId, 1000);
    this.#log.info({ planId: this.planId, triggers: triggers.length, sessions: plan.sessions.length, planningMs: Math.round(planningMs * 10) / 10, allReady: plan.allReady, peakKw: plan.peakKw }, 're-planned');
    release();
    await this.#reconcile(this.planId, null);
    await this.evaluateAlerts();
    if (yard) await this.#d.yard!.afterPlan(this.planId, [...this.sessions.values()], nowMs);
    this.#scheduleSlotBoundary(plan);
  }

  #scheduleSlotBoundary(plan: Plan): void {
    if (this.#slotTimer) this.#d.clock.clearTimeout(this.#slotTimer);
    const next = plan.slotStartsMs[1];
    if (next === undefined) return;
    this.#slotTimer = this.#d.clock.setTimeout(() => this.requestReplan('slot boundary'), Math.max(0, next - this.#now()) + 1);
    this.#slotTimer.unref?.();
  }

  async evaluateAlerts(): Promise<void> {
    if (!this.#fleet) return;
    const nowMs = this.#now();
    for (const [v, drop] of this.#socDrops) if (nowMs - drop.atMs > 3_600_000) this.#socDrops.delete(v);
    const alerts = evaluateAlerts({
      nowMs, fleet: this.#fleet, plan: this.plan, live: this.#live, sessions: [...this.sessions.values()], usableChargers: this.#usable(),
      chargerState: this.chargerState, socDrops: this.#socDrops, notApplied: this.#notApplied, timeZone: this.#fleet.depot.timeZone,
    });
    const raised = await this.#d.records.syncAlerts(this.depotId, alerts, this.#iso(nowMs));
    for (const a of raised) this.#log.warn({ alert: a.kind, vehicleId: a.vehicleId, chargerId: a.chargerId }, a.message);
  }

  /** Turns the current plan into profiles on the chargers: only what changed, decreases first. */
  /** `only`: re-apply just this charger's profile (after drift), whatever the diff says. */
  async #reconcile(planId: number | null, only: string | null): Promise<void> {
    const force = only !== null;
    const plan = this.plan;
    const fleet = this.#fleet;
    if (!plan || !fleet) return;
    const nowMs = this.#now();
    const byCharger = new Map(fleet.chargers.map((c) => [c.id, c]));
    const pushes: (() => Promise<void>)[] = [];
    const desired: { sp: typeof plan.sessions[number]; s: LiveSession; charger: DepotCharger; steps: LimitSteps }[] = [];
    for (const sp of plan.sessions) {
      const s = this.#live.get(sp.sessionId);
      const charger = byCharger.get(sp.chargerId);
      if (!s || !charger || this.sessions.get(charger.id) !== s || (only !== null && charger.id !== only)) continue;
      const caps = this.#caps.get(charger.stationId) ?? defaultCapabilities;
      desired.push({ sp, s, charger, steps: limitSteps(plan, sp, caps.maxPeriods) });
    }
    if (this.mode !== 'shadow' && only === null) await this.#renewLeases(desired, planId);
    for (const { s, charger, steps } of desired) {
      const applied = this.#applied.get(charger.id);
      if (!force && applied?.transactionId === s.transactionId && !stepsDiffer(applied.steps, steps, nowMs)) { this.pending.delete(charger.id); continue; }
      const nowLimit = limitAt(steps, nowMs) ?? 0;
      const appliedNow = applied ? (limitAt(applied.steps, nowMs) ?? Infinity) : Infinity;
      const decrease = nowLimit < appliedNow - 0.1;
      if (this.mode === 'shadow') continue;
      if (this.mode === 'assisted' && !decrease) {
        this.pending.set(charger.id, { chargerId: charger.id, steps, transactionId: s.transactionId, plannedAtMs: nowMs });
        continue;
      }
      const last = this.#lastPushMs.get(charger.id) ?? -Infinity;
      if (!decrease && !force && nowMs - last < minPushIntervalMs && applied) {
        // One deferred pass picks up every charger that had to wait.
        if (!this.#deferred) {
          this.#deferred = true;
          this.#later(() => { this.#deferred = false; return this.#reconcile(this.planId, null); }, minPushIntervalMs - (nowMs - last) + 1);
        }
        continue;
      }
      pushes.push(() => this.#push(charger, steps, s.transactionId, planId));
    }
    await Promise.all(pushes.map((push) => push()));
  }

  /** Gives each station the room its plan needs above its share for the next lease, renewing before it runs out. */
  async #renewLeases(desired: readonly { charger: DepotCharger; steps: LimitSteps }[], planId: number | null): Promise<void> {
    const fleet = this.#fleet!;
    const nowMs = this.#now();
    const shares = failSafeShares(fleet);
    const byStation = new Map<string, LimitSteps[]>();
    for (const d of desired) byStation.set(d.charger.stationId, [...(byStation.get(d.charger.stationId) ?? []), d.steps]);
    await Promise.all([...byStation].map(async ([stationId, schedules]) => {
      const share = shares.get(stationId) ?? 0;
      const chargers = this.#stationChargers(stationId);
      const ratedKw = Math.min(chargers.reduce((a, c) => a + c.maxPowerKw, 0), chargers[0]?.stationMaxPowerKw ?? Infinity);
      const kw = Math.min(ratedKw, Math.max(share, Math.ceil(peakOf(schedules, nowMs, nowMs + leaseMs) * 10) / 10));
      const lease = this.#leases.get(stationId);
      if (kw <= share + 0.05 && (!lease || lease.untilMs <= nowMs)) return;
      if (lease && Math.abs(lease.kw - kw) <= 0.1 && lease.untilMs - nowMs > leaseMs / 2) return;
      const caps = this.#caps.get(stationId) ?? defaultCapabilities;
      const answer = await this.#send(stationId, { type: 'SetChargingProfile', evseId: 0, profile: leaseProfile(kw, chargers, caps, this.#iso(nowMs)) }, planId);
      if ('status' in answer && answer.status === 'Accepted') this.#leases.set(stationId, { kw, untilMs: nowMs + leaseMs });
    }));
  }

  /** Assisted mode: the dispatcher approves the waiting changes. */
  async approvePending(chargerIds?: readonly string[]): Promise<number> {
    const fleet = this.#fleet;
    if (!fleet) return 0;
    const byCharger = new Map(fleet.chargers.map((c) => [c.id, c]));
    const chosen = [...this.pending.values()].filter((p) => !chargerIds || chargerIds.includes(p.chargerId));
    await Promise.all(chosen.map((p) => {
      this.pending.delete(p.chargerId);
      const charger = byCharger.get(p.chargerId);
      return charger && this.sessions.get(p.chargerId)?.transactionId === p.transactionId ? this.#push(charger, p.steps, p.transactionId, this.planId) : Promise.resolve();
    }));
    return chosen.length;
  }

  async #send(stationId: string, command: StationCommand, planId: number | null): Promise<{ status: string; result?: unknown } | { error: CommandError }> {
    const central = this.#d.central;
    if (!central || this.#stopped) return { error: new CommandError('StationOffline', this.#stopped ? 'control loop stopped' : 'no central system') };
    const at = this.#iso();
    try {
      const result = await central.send(stationId, command);
      if (this.#stopped) return { status: result.status, result };
      await this.#d.records.saveCommand({ planId, depotId: this.depotId, stationId, at, command, outcome: result.status, answer: result });
      return { status: result.status, result };
    } catch (err) {
      const error = err instanceof CommandError ? err : new CommandError('StationError', (err as Error).message);
      if (this.#stopped) return { error };
      await this.#d.records.saveCommand({ planId, depotId: this.depotId, stationId, at, command, outcome: error.code, answer: { detail: error.message } });
      return { error };
    }
  }

  async #push(charger: DepotCharger, steps: LimitSteps, transactionId: string, planId: number | null, attempt = 1): Promise<void> {
    if (steps.startMs.length === 0) return;
    const caps = { ...(this.#caps.get(charger.stationId) ?? defaultCapabilities) };
    this.#lastPushMs.set(charger.id, this.#now());
    const profile = txProfile(steps, transactionId, charger, caps);
    const answer = await this.#send(charger.stationId, { type: 'SetChargingProfile', evseId: charger.evseId, profile }, planId);
    if (this.sessions.get(charger.id)?.transactionId !== transactionId) return;
    if ('status' in answer && answer.status === 'Accepted') {
      const seq = ++this.#pushSeq;
      this.#applied.set(charger.id, { steps, transactionId, atMs: this.#now(), seq });
      this.#later(() => this.#verify(charger, seq, planId), verifyAfterMs);
      return;
    }
    if ('status' in answer) {
      // Rejected: learn what this charger does not take, in the order real chargers fail.
      if (caps.unit === 'kW') this.#caps.set(charger.stationId, { ...caps, unit: 'A' });
      else if (caps.maxPeriods > 1) this.#caps.set(charger.stationId, { ...caps, maxPeriods: 1 });
      else { this.#notApplied.set(charger.id, `rejects every charging profile (${answer.status})`); return; }
      this.#log.info({ chargerId: charger.id, learned: this.#caps.get(charger.stationId) }, 'charger rejected a profile; adapting');
      const again = this.plan?.sessions.find((p) => this.#live.get(p.sessionId)?.transactionId === transactionId);
      const retrySteps = again && this.plan ? limitSteps(this.plan, again, this.#caps.get(charger.stationId)!.maxPeriods) : steps;
      return this.#push(charger, retrySteps, transactionId, planId, attempt + 1);
    }
    if (answer.error.code !== 'StationOffline' && attempt < 3) {
      this.#later(() => this.#push(charger, steps, transactionId, planId, attempt + 1), 2000 * attempt);
    }
  }

  async #verify(charger: DepotCharger, seq: number, planId: number | null): Promise<void> {
    const applied = this.#applied.get(charger.id);
    if (!applied || applied.seq !== seq) return;
    const answer = await this.#send(charger.stationId, { type: 'GetCompositeSchedule', evseId: charger.evseId, durationS: 900 }, planId);
    if (!('status' in answer) || answer.status !== 'Accepted') return;
    // A newer profile went out meanwhile: this answer says nothing about it.
    if (this.#applied.get(charger.id)?.seq !== seq) return;
    const schedule = (answer.result as { schedule?: { startAt: string | null; unit: 'kW' | 'A'; periods: { startOffsetS: number; limit: number; numberPhases?: number }[] } | null }).schedule;
    if (!schedule || schedule.periods.length === 0) return;
    const nowMs = this.#now();
    const startMs = schedule.startAt ? Date.parse(schedule.startAt) : nowMs;
    let period = schedule.periods[0];
    for (const p of schedule.periods) if (startMs + p.startOffsetS * 1000 <= nowMs) period = p;
    const actualKw = limitToKw(period.limit, schedule.unit, charger, period.numberPhases);
    const expectedKw = limitAt(applied.steps, nowMs);
    if (expectedKw === null) return;
    const lease = this.#leases.get(charger.stationId);
    const share = lease && lease.untilMs > nowMs ? lease.kw : (failSafeShares(this.#fleet!).get(charger.stationId) ?? Infinity);
    // The composite is the lower of our Tx limit and the station maximum; A-rounding costs up to 0.7 kW.
    if (Math.abs(actualKw - Math.min(expectedKw, share)) > Math.max(0.75, 0.05 * expectedKw)) {
      this.#noteDrift(charger, `composite schedule says ${actualKw.toFixed(1)} kW, the plan ${expectedKw.toFixed(1)} kW`);
    } else {
      this.#drift.delete(charger.id);
      this.#notApplied.delete(charger.id);
    }
  }

  #onStationUp(stationId: string, why: string): Promise<void> {
    const current = this.#stationUps.get(stationId);
    if (current) {
      current.again = current.again ? `${current.again}, ${why}` : why;
      return current.running;
    }
    const entry: { running: Promise<void>; again: string | null } = { running: Promise.resolve(), again: null };
    entry.running = (async () => {
      try {
        let reason: string | null = why;
        while (reason !== null && !this.#stopped) {
          entry.again = null;
          await this.#stationUp(stationId, reason);
          reason = entry.again;
        }
      } finally {
        this.#stationUps.delete(stationId);
      }
    })();
    this.#stationUps.set(stationId, entry);
    return entry.running;
  }

  /** Fail-safe first, then capabilities, then fresh state: what a station gets when it (re)connects or boots. */
  async #stationUp(stationId: string, why: string): Promise<void> {
    const fleet = this.#fleet;
    if (!fleet || this.mode === 'shadow') return;
    const chargers = this.#stationChargers(stationId);
    for (const c of chargers) this.#applied.delete(c.id);
    this.#leases.delete(stationId);
    const config = await this.#send(stationId, { type: 'GetConfiguration', keys: ['ChargingScheduleMaxPeriods', 'ChargingScheduleAllowedChargingRateUnit'] }, null);
    if ('status' in config) {
      const keys = (config.result as { configuration?: { key: string; value: string | null }[] }).configuration ?? [];
      const maxPeriods = Number(keys.find((k) => k.key === 'ChargingScheduleMaxPeriods')?.value);
      const units = keys.find((k) => k.key === 'ChargingScheduleAllowedChargingRateUnit')?.value ?? '';
      const caps: ChargerCapabilities = {
        unit: units && !/power/i.test(units) && /current/i.test(units) ? 'A' : (this.#caps.get(stationId)?.unit ?? 'kW'),
        maxPeriods: Number.isInteger(maxPeriods) && maxPeriods > 0 ? Math.min(maxPeriods, defaultCapabilities.maxPeriods) : (this.#caps.get(stationId)?.maxPeriods ?? defaultCapabilities.maxPeriods),
      };
      this.#caps.set(stationId, caps);
    }
    const share = failSafeShares(fleet).get(stationId);
    if (share !== undefined) {
      const caps = this.#caps.get(stationId) ?? defaultCapabilities;
      const { stationMax, txDefault } = failSafeProfiles(share, chargers, caps, this.#iso());
      for (const [evseId, profile] of [[0, stationMax], [0, txDefault]] as const) {
        let answer = await this.#send(stationId, { type: 'SetChargingProfile', evseId, profile }, null);
        if ('status' in answer && answer.status !== 'Accepted' && caps.unit === 'kW') {
          this.#caps.set(stationId, { ...caps, unit: 'A' });
          const retry = failSafeProfiles(share, chargers, { ...caps, unit: 'A' }, this.#iso());
          answer = await this.#send(stationId, { type: 'SetChargingProfile', evseId, profile: profile.purpose === 'StationMax' ? retry.stationMax : retry.txDefault }, null);
        }
        if (!('status' in answer) || answer.status !== 'Accepted') this.#log.warn({ stationId, purpose: profile.purpose, answer: 'status' in answer ? answer.status : answer.error.code }, 'fail-safe profile not accepted');
      }
      this.#log.info({ stationId, shareKw: share, why }, 'fail-safe limits set');
    }
    for (const c of chargers) {
      await this.#send(stationId, { type: 'TriggerMessage', message: 'StatusNotification', evseId: c.evseId }, null);
      if (this.sessions.has(c.id)) await this.#send(stationId, { type: 'TriggerMessage', message: 'MeterValues', evseId: c.evseId }, null);
    }
    this.requestReplan(`${stationId} fail-safe set (${why})`);
  }

  setOverride(vehicleId: string, override: Override | null): void {
    if (override) this.overrides.set(vehicleId, override);
    else this.overrides.delete(vehicleId);
    this.requestReplan(`override for ${vehicleId}`);
  }

  /** The numbers and words behind one vehicle's power. */
  why(vehicleId: string): Record<string, unknown> | null {
    const plan = this.plan;
    const fleet = this.#fleet;
    if (!plan || !fleet) return null;
    const sp = plan.sessions.find((p) => (this.#live.get(p.sessionId)?.vehicleId ?? p.sessionId.replace(/^exp-[^:]*:/, '')) === vehicleId)
      ?? plan.sessions.find((p) => p.sessionId.startsWith('exp-') && fleet.departures.some((d) => `exp-${d.id}` === p.sessionId && d.vehicleId === vehicleId));
    if (!sp) return null;
    const s = this.#live.get(sp.sessionId);
    const nowMs = this.#now();
    const slot = Math.max(0, plan.slotStartsMs.findLastIndex((x) => x <= nowMs));
    const applied = this.#applied.get(sp.chargerId);
    const departure = nextDeparture(fleet.departures, vehicleId, nowMs);
    const plannedNowKw = sp.powerKw[slot] ?? 0;
    const clock = new Intl.DateTimeFormat('en-GB', { timeZone: fleet.depot.timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    const summary = [
      s ? `${vehicleId} is on ${sp.chargerId} (identified by ${s.identifiedBy}), drawing ${(s.powerKw ?? 0).toFixed(1)} kW now` : `${vehicleId} is expected on ${sp.chargerId}`,
      `planned ${plannedNowKw.toFixed(1)} kW in this slot; ${sp.plannedKwh.toFixed(1)} of ${sp.neededKwh.toFixed(1)} kWh by ${clock.format(sp.departureMs)}`,
      sp.ready ? 'it will be ready' : `it will be short by ${sp.shortfallKwh.toFixed(1)} kWh`,
      ...sp.trace,
    ];
    return {
      vehicleId, chargerId: sp.chargerId, sessionId: sp.sessionId, planId: this.planId, mode: this.mode,
      identifiedBy: s?.identifiedBy ?? null, drawingKw: s?.powerKw ?? null, plannedNowKw,
      appliedLimitKw: applied ? limitAt(applied.steps, nowMs) : null, neededKwh: sp.neededKwh, plannedKwh: sp.plannedKwh, shortfallKwh: sp.shortfallKwh,
      socNowPercent: this.soc.get(vehicleId)?.socPercent ?? null, socAtDeparturePercent: sp.socAtDeparturePercent ?? null,
      departure: new Date(sp.departureMs).toISOString(), departureSource: departure ? (departure.estimated ? 'estimate' : 'schedule') : 'assumed',
      ready: sp.ready, siteCapKw: plan.siteCapKw, trace: sp.trace, explanation: summary.join('. ') + '.',
    };
  }

  stop(): void {
    this.#stopped = true;
    if (this.#replanTimer) this.#d.clock.clearTimeout(this.#replanTimer);
    if (this.#slotTimer) this.#d.clock.clearTimeout(this.#slotTimer);
    for (const t of this.#timers) this.#d.clock.clearTimeout(t);
    this.#timers.clear();
  }

  async drain(): Promise<void> {
    await this.#running;
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }
}
