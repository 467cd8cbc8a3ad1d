// Device-code polling speed.
//
// oidc-provider 9.13 does nothing about polling speed: it defines a SlowDown error but never
// raises it, and its device_authorization response carries no `interval` (RFC 8628 then means
// 5 s). The provider adds `interval` (OP_DC_INTERVAL), can answer slow_down to polls sooner than
// the interval (OP_DC_ENFORCE_INTERVAL; each slow_down then adds 5 s, as RFC 8628 section 3.5
// says), and lets a test script the next N polls of a code to answer slow_down.

export const normalizeUserCode = (code) => String(code ?? '').toUpperCase().replace(/[^A-Z0-9]/g, '');

export class DevicePolling {
  constructor({ interval, enforce }) {
    this.interval = interval;
    this.enforce = enforce;
    this.devices = new Map(); // device_code -> { userCode, interval, lastPollMs, forcedSlowDowns }
  }

  // Note a device_authorization response and add its `interval`.
  issued(body) {
    body.interval = this.interval;
    this.devices.set(body.device_code, {
      userCode: body.user_code, interval: this.interval, lastPollMs: undefined, forcedSlowDowns: 0,
    });
  }

  byDeviceCode(deviceCode) { return this.devices.get(deviceCode); }

  byUserCode(userCode) {
    const wanted = normalizeUserCode(userCode);
    for (const device of this.devices.values()) {
      if (normalizeUserCode(device.userCode) === wanted) return device;
    }
    return undefined;
  }

  // A poll of `device` arrived at nowMs: should it be answered slow_down?
  shouldSlowDown(device, nowMs) {
    const tooSoon = this.enforce && device.lastPollMs !== undefined
      && nowMs - device.lastPollMs < device.interval * 1000;
    device.lastPollMs = nowMs;
    if (device.forcedSlowDowns === 0 && !tooSoon) return false;
    device.forcedSlowDowns = Math.max(0, device.forcedSlowDowns - 1);
    if (this.enforce) device.interval += 5;
    return true;
  }

  forgetScriptedSlowDowns() {
    for (const device of this.devices.values()) device.forcedSlowDowns = 0;
  }
}
