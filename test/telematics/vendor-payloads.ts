/**
 * Payloads in the shapes the vendors document, used by the adapter tests and served by the fake vendor clouds.
 * Values are invented; field names, nesting, units and timestamp formats follow each vendor's public API reference.
 */

/** Smartcar webhook v4.0, VEHICLE_STATE (signals with code/body/status/meta; oemUpdatedAt epoch ms). */
export const smartcarVehicleState = {
  eventId: '5a537912-9ad3-424b-ba33-65a1704567e9',
  eventType: 'VEHICLE_STATE',
  data: {
    user: { id: '93b3ea5d-e8b5-4a5e-a8ab-6b2ef4c0d2a6' },
    vehicle: { id: '36ab27d0-fd9d-4455-823a-ce30af709ffc', make: 'TESLA', model: 'Model 3', year: 2020 },
    signals: [
      { code: 'tractionbattery-stateofcharge', name: 'StateOfCharge', group: 'TractionBattery', body: { value: 72.5, unit: 'percent' }, status: { value: 'SUCCESS' }, meta: { oemUpdatedAt: 1764323820000, retrievedAt: 1764323880000 } },
      { code: 'tractionbattery-range', name: 'Range', group: 'TractionBattery', body: { value: 150, unit: 'miles' }, status: { value: 'SUCCESS' }, meta: { oemUpdatedAt: 1764323820000, retrievedAt: 1764323880000 } },
      { code: 'charge-ischarging', name: 'IsCharging', group: 'Charge', body: { value: true }, status: { value: 'SUCCESS' }, meta: { oemUpdatedAt: 1764323820000, retrievedAt: 1764323880000 } },
      { code: 'charge-ischargingcableconnected', name: 'IsChargingCableConnected', group: 'Charge', body: { value: true }, status: { value: 'SUCCESS' }, meta: { oemUpdatedAt: 1764323820000, retrievedAt: 1764323880000 } },
      { code: 'odometer-traveleddistance', name: 'TraveledDistance', group: 'Odometer', body: { value: 15890.2, unit: 'km' }, status: { value: 'SUCCESS' }, meta: { oemUpdatedAt: 1764323700000, retrievedAt: 1764323880000 } },
      { code: 'location-preciselocation', name: 'PreciseLocation', group: 'Location', body: { latitude: 37.4292, longitude: -122.1381, heading: 120 }, status: { value: 'SUCCESS' }, meta: { oemUpdatedAt: 1764323700000, retrievedAt: 1764323880000 } },
      { code: 'charge-energyadded', name: 'EnergyAdded', group: 'Charge', body: {}, status: { value: 'ERROR', error: { type: 'COMPATIBILITY', code: 'VEHICLE_NOT_CAPABLE' } }, meta: { retrievedAt: 1764323880000 } },
    ],
  },
  meta: { version: '4.0', webhookId: '3b3e1f3e-7c43-4f0a-9d3d-0c7cd3d5b6a0', webhookName: 'depot', deliveryId: 'c3a7a1f2', deliveredAt: 1764323881000, mode: 'LIVE', signalCount: 7 },
};

/** Smartcar webhook v2.0 "schedule" payload: REST answers per path; SoC a 0–1 fraction; units per sc-unit-system. */
export const smartcarScheduleV2 = {
  version: '2.0',
  webhookId: 'f32b5d1a-2c4e-4b3e-8c8a-5c0b8d1a2f3e',
  eventName: 'schedule',
  mode: 'live',
  payload: {
    vehicles: [{
      vehicleId: 'a8a5b7b3-b7d8-4a91-8a8e-3a9e9e1f4d61',
      requestId: '2b7a1a0e-0a6c-4c6e-9f0f-5b1b0c1d2e3f',
      data: [
        { path: '/battery', code: 200, body: { percentRemaining: 0.3, range: 40.5 }, headers: { 'sc-unit-system': 'imperial', 'sc-data-age': '2026-11-28T09:58:31.000Z' } },
        { path: '/charge', code: 200, body: { isPluggedIn: true, state: 'NOT_CHARGING' }, headers: { 'sc-data-age': '2026-11-28T09:58:31.000Z' } },
        { path: '/odometer', code: 200, body: { distance: 10000 }, headers: { 'sc-unit-system': 'imperial', 'sc-data-age': '2026-11-28T09:58:31.000Z' } },
        { path: '/location', code: 409, body: { type: 'VEHICLE_STATE', code: 'ASLEEP', description: 'vehicle asleep' }, headers: {} },
      ],
    }],
  },
};

/** Samsara GET /fleet/vehicles/stats/feed (first page; lists of {time, value} per stat type). */
export const samsaraFeedPage1 = {
  data: [
    {
      id: '212014918086169',
      name: 'Van 14',
      externalIds: { 'samsara.serial': 'G9ABCD123', 'samsara.vin': '1FTBW3XM5KKA12345' },
      evStateOfChargeMilliPercent: [{ time: '2026-11-28T09:50:00Z', value: 81500 }, { time: '2026-11-28T09:55:00Z', value: 82250 }],
      obdOdometerMeters: [{ time: '2026-11-28T09:50:00Z', value: 42123456 }],
      evChargingStatus: [{ time: '2026-11-28T09:55:00Z', value: 2 }],
      gps: [{ time: '2026-11-28T09:49:30Z', latitude: 37.7749, longitude: -122.4194, headingDegrees: 90, speedMilesPerHour: 10, reverseGeo: { formattedLocation: 'Depot North' }, isEcuSpeed: false }],
    },
  ],
  pagination: { endCursor: 'cursor-page-1', hasNextPage: true },
};

export const samsaraFeedPage2 = {
  data: [
    { id: '212014918086170', name: 'Van 15', externalIds: { 'samsara.vin': '1FTBW3XM5KKA12346' }, evStateOfChargeMilliPercent: [{ time: '2026-11-28T09:56:00Z', value: 45000 }] },
  ],
  pagination: { endCursor: 'cursor-page-2', hasNextPage: false },
};

/** Geotab JSON-RPC GetFeed StatusData answer. */
export const geotabFeed = {
  jsonrpc: '2.0',
  result: {
    data: [
      { id: 'a1', dateTime: '2026-11-28T09:40:00.000Z', data: 64, device: { id: 'b28' }, diagnostic: { id: 'DiagnosticStateOfChargeId' }, controller: 'ControllerNoneId', version: '0000000000000a01' },
      { id: 'a2', dateTime: '2026-11-28T09:40:00.000Z', data: 53211500, device: { id: 'b28' }, diagnostic: { id: 'DiagnosticOdometerId' }, version: '0000000000000a02' },
      { id: 'a3', dateTime: '2026-11-28T09:41:00.000Z', data: 1, device: { id: 'b28' }, diagnostic: { id: 'DiagnosticElectricVehicleChargingStateId' }, version: '0000000000000a03' },
      { id: 'a4', dateTime: '2026-11-28T09:41:00.000Z', data: 1450, device: { id: 'b28' }, diagnostic: { id: 'DiagnosticEngineSpeedId' }, version: '0000000000000a04' },
    ],
    toVersion: '0000000000000a04',
  },
};

export const geotabDeviceStatusInfo = {
  jsonrpc: '2.0',
  result: [
    { bearing: 0, currentStateDuration: '02:10:00', dateTime: '2026-11-28T09:42:00.000Z', device: { id: 'b28' }, driver: 'UnknownDriverId', isDeviceCommunicating: true, isDriving: false, latitude: 43.4516, longitude: -79.6872, speed: 0 },
  ],
};

/** Tesla Fleet API GET /api/1/vehicles/{vehicle_tag}/vehicle_data (miles, percent, epoch-ms per section). */
export const teslaVehicleData = {
  response: {
    id: 100021,
    id_s: '100021',
    user_id: 800001,
    vehicle_id: 99999,
    vin: '5YJ3E1EA7KF000001',
    state: 'online',
    charge_state: {
      battery_level: 69, usable_battery_level: 68, battery_range: 185.43, est_battery_range: 160.2, charge_energy_added: 12.41,
      charge_limit_soc: 80, charger_power: 11, charger_voltage: 240, charging_state: 'Charging', charge_port_latch: 'Engaged',
      minutes_to_full_charge: 45, timestamp: 1764323700123,
    },
    drive_state: { latitude: 37.3947, longitude: -122.1503, heading: 289, gps_as_of: 1764323690, power: 0, shift_state: null, speed: null, timestamp: 1764323690456 },
    vehicle_state: { odometer: 15720.1234, locked: true, car_version: '2025.44.25', timestamp: 1764323680789 },
  },
};
