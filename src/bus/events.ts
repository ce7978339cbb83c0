/**
 * The version-neutral domain events every context speaks. No OCPP or vendor type appears here: `ocpp/` and
 * `telematics/` translate into these, everything else consumes them. `at` is the ISO-8601 UTC instant the event
 * happened (the station's or vehicle's timestamp where it gave one), `receivedAt` when Voltyard learned it.
 */

export type ProtocolVersion = 'ocpp1.6' | 'ocpp2.0.1';

/** Connector states common to OCPP 1.6 and 2.0.1 (1.6's Preparing/Charging/SuspendedEV/SuspendedEVSE/Finishing map onto Occupied with a detail). */
export type ConnectorStatus = 'Available' | 'Preparing' | 'Charging' | 'SuspendedEV' | 'SuspendedEVSE' | 'Finishing' | 'Reserved' | 'Unavailable' | 'Faulted' | 'Occupied';

interface EventBase {
  /** ISO-8601 UTC */
  readonly at: string;
  /** ISO-8601 UTC */
  readonly receivedAt: string;
}

interface StationEventBase extends EventBase {
  readonly stationId: string;
}

export interface StationConnected extends StationEventBase {
  readonly type: 'StationConnected';
  readonly protocol: ProtocolVersion;
  readonly remoteAddress: string;
  readonly securityProfile: number;
}

export interface StationDisconnected extends StationEventBase {
  readonly type: 'StationDisconnected';
  readonly reason: string;
}

export interface StationBooted extends StationEventBase {
  readonly type: 'StationBooted';
  readonly vendor: string;
  readonly model: string;
  readonly serialNumber: string | null;
  readonly firmwareVersion: string | null;
  /** What the registry answered: Accepted, Pending or Rejected. */
  readonly registration: 'Accepted' | 'Pending' | 'Rejected';
}

export interface ConnectorStatusChanged extends StationEventBase {
  readonly type: 'ConnectorStatusChanged';
  /** 0 = the station as a whole. In 2.0.1 terms this is the EVSE id; `connectorId` within the EVSE is below. */
  readonly evseId: number;
  readonly connectorId: number;
  readonly status: ConnectorStatus;
  readonly errorCode: string | null;
  readonly info: string | null;
}

export interface SessionStarted extends StationEventBase {
  readonly type: 'SessionStarted';
  readonly evseId: number;
  readonly connectorId: number;
  /** Voltyard's transaction id as text (1.6 integer ids and 2.0.1 string ids alike). */
  readonly transactionId: string;
  readonly idToken: string | null;
  readonly meterStartKwh: number;
}

/** One meter reading, normalised: every present measurand in domain units; absent ones are null. */
export interface MeterSampled extends StationEventBase {
  readonly type: 'MeterSampled';
  readonly evseId: number;
  readonly connectorId: number;
  readonly transactionId: string | null;
  /** Sample.Periodic, Transaction.Begin, ... (OCPP ReadingContext, version-neutral spelling) */
  readonly context: string;
  readonly powerKw: number | null;
  /** Energy.Active.Import.Register, cumulative */
  readonly energyKwh: number | null;
  readonly currentA: number | null;
  readonly voltageV: number | null;
  readonly socPercent: number | null;
  readonly offeredPowerKw: number | null;
  readonly currentOfferedA: number | null;
  readonly temperatureC: number | null;
  /** Per-phase values where the station reported phases: measurand key -> phase -> value (domain units). */
  readonly phases: Readonly<Record<string, Readonly<Record<string, number>>>> | null;
}

export interface SessionEnded extends StationEventBase {
  readonly type: 'SessionEnded';
  readonly transactionId: string;
  readonly evseId: number | null;
  readonly connectorId: number | null;
  readonly meterStopKwh: number | null;
  readonly energyKwh: number | null;
  readonly reason: string | null;
  /** False when the stop arrived for a transaction Voltyard never saw start. */
  readonly known: boolean;
}

export interface StationFault extends StationEventBase {
  readonly type: 'StationFault';
  readonly evseId: number;
  readonly connectorId: number;
  readonly errorCode: string;
  readonly info: string | null;
}

/**
 * What an ISO 15118 vehicle told the charger it needs (OCPP 2.0.1 NotifyEVChargingNeeds): the best planning input
 * there is. `at` is when the station reported it (the message has no timestamp of its own). Absent values are null.
 */
export interface EvChargingNeedsReported extends StationEventBase {
  readonly type: 'EvChargingNeedsReported';
  readonly evseId: number;
  /** Voltyard's id of the transaction open on that EVSE, when there is one. */
  readonly transactionId: string | null;
  readonly currentType: 'AC' | 'DC';
  /** AC phases the vehicle asked for (1, 2 or 3); null for DC. */
  readonly phases: number | null;
  readonly energyRequestKwh: number | null;
  /** ISO-8601 UTC: when the driver plans to leave. */
  readonly departureAt: string | null;
  readonly minCurrentA: number | null;
  readonly maxCurrentA: number | null;
  readonly maxVoltageV: number | null;
  /** DC: the vehicle's maximum power. */
  readonly maxPowerKw: number | null;
  readonly socPercent: number | null;
  readonly batteryCapacityKwh: number | null;
  /** DC: the SoC at which the vehicle considers itself full, and where bulk charging ends. */
  readonly fullSocPercent: number | null;
  readonly bulkSocPercent: number | null;
}

export type ChargerEvent =
  | StationConnected
  | StationDisconnected
  | StationBooted
  | ConnectorStatusChanged
  | SessionStarted
  | MeterSampled
  | SessionEnded
  | StationFault
  | EvChargingNeedsReported;

/**
 * One normalised telematics reading for a known vehicle (published once per distinct reading: duplicates are
 * dropped before this). `at` is when the vehicle measured it, `receivedAt` when Voltyard got it. Absent values are null.
 */
export interface VehicleReading extends EventBase, VehicleReadingValues {
  readonly type: 'VehicleReading';
  readonly tenantId: string;
  readonly vehicleId: string;
  /** The configured provider instance it came from (e.g. "samsara-depot-north"). */
  readonly provider: string;
}

/** What a vehicle tells about itself, in domain units; absent values are null. */
export interface VehicleReadingValues {
  readonly socPercent: number | null;
  readonly rangeKm: number | null;
  readonly odometerKm: number | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly speedKmh: number | null;
  readonly pluggedIn: boolean | null;
  readonly charging: boolean | null;
  /** Energy added in the vehicle's current or last charge, as the vehicle reports it. */
  readonly chargeEnergyAddedKwh: number | null;
}

export type DomainEvent = ChargerEvent | VehicleReading;
