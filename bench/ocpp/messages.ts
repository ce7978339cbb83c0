// What the bench's main thread and its load workers say to each other (structured-clone messages). A worker holds
// one group of stations per target server (`target`), so both servers can be loaded in alternation.

export type Command =
  | { cmd: 'connect'; target: string; url: string; stationIds: string[]; concurrency: number; ocpp: boolean; timeoutMs: number; ocpp201Every: number }
  | { cmd: 'phase'; target: string; name: string; startAt: number; durationMs: number; drainMs: number; closedLoop: boolean; ratePerSec: number }
  | { cmd: 'held'; target: string }
  | { cmd: 'close'; target: string };

/** Counters every phase reports; `lost` is derived by the main thread (sent − answered). */
export interface PhaseReport {
  evt: 'phase';
  name: string;
  sent: number;
  answered: number;
  /** CALLERROR code -> count (a CALLERROR is not the CALLRESULT the station asked for). */
  callErrors: Record<string, number>;
  /** Calls still unanswered after the drain time. */
  unanswered: number;
  /** Sends skipped because the station's previous call was still outstanding (OCPP allows one at a time). */
  skippedBusy: number;
  /** Round-trip times of answers received inside the phase window, ms. */
  latencies: Float64Array;
}

export interface ConnectReport {
  evt: 'connect';
  opened: number;
  /** reason -> count for handshakes that failed (HTTP status, wrong subprotocol, socket error, timeout). */
  failures: Record<string, number>;
  /** Absolute times (ms since epoch) of the first connect attempt and of the last handshake completed. */
  firstAttemptAt: number;
  lastOpenAt: number;
  /** Absolute time the last boot sequence (Boot, StartTransaction, StatusNotification, MeterValues) completed. */
  lastBootedAt: number;
  /** Boot status (Accepted, Pending, Rejected, unanswered) -> count. */
  bootStatus: Record<string, number>;
  /** Stations whose StartTransaction got no integer transactionId. */
  noTransactionId: number;
  boot: PhaseReport;
}

export interface HeldReport {
  evt: 'held';
  /** Stations whose socket is open and that got an answer in the last phase. */
  held: number;
  /** Close codes of sockets the server closed during the run -> count. */
  closedByServer: Record<string, number>;
  serverCalls: Record<string, number>;
  strayFrames: number;
}

export type Report = ConnectReport | PhaseReport | HeldReport | { evt: 'closed' } | { evt: 'error'; message: string };
