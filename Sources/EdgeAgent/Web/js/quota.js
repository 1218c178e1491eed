// Quota arithmetic and wording. A quota is central's QuotaSnapshot (snake_case JSON, ISO 8601
// timestamps, seconds with millisecond precision).

import { t, locale } from "./i18n.js";

export const WARNING_LEVELS = ["none", "used_80_percent", "used_95_percent", "last_60_seconds", "last_10_seconds", "exhausted"];

/** The same rule as Protocol's QuotaWarning.level(for:): whichever allowance runs out first. */
export function warningLevel(quota) {
  if (!quota) return "none";
  const { remaining, fractionUsed } = binding(quota);
  if (remaining <= 0) return "exhausted";
  if (remaining <= 10) return "last_10_seconds";
  if (remaining <= 60) return "last_60_seconds";
  if (fractionUsed >= 0.95) return "used_95_percent";
  if (fractionUsed >= 0.8) return "used_80_percent";
  return "none";
}

/** Remaining seconds and fraction used of the allowance that runs out first. */
export function binding(quota) {
  let remaining = quota.seconds_remaining;
  let fractionUsed = quota.seconds_limit > 0 ? quota.seconds_used / quota.seconds_limit : 1;
  let daily = false;
  if (quota.daily_limit_seconds != null && quota.daily_remaining_seconds != null && quota.daily_remaining_seconds < remaining) {
    remaining = quota.daily_remaining_seconds;
    fractionUsed = quota.daily_limit_seconds > 0 ? (quota.daily_limit_seconds - remaining) / quota.daily_limit_seconds : 1;
    daily = true;
  }
  return { remaining: Math.max(0, remaining), fractionUsed, daily };
}

/** "59 min 12 s", "12 s", "60 min". Whole seconds, rounded down so it never overstates. */
export function duration(seconds) {
  const whole = Math.max(0, Math.floor(seconds + 1e-6));
  const m = Math.floor(whole / 60);
  const s = whole % 60;
  if (m === 0) return t("unit.sec", { s });
  if (s === 0) return t("unit.min", { m: m.toLocaleString(locale()) });
  return t("unit.minSec", { m: m.toLocaleString(locale()), s });
}

/** A limit in minutes, e.g. "60 min" or "0.5 min" style for fractions ("30 s"). */
export function limit(seconds) {
  return seconds % 60 === 0 ? t("unit.min", { m: (seconds / 60).toLocaleString(locale()) }) : duration(seconds);
}

/** Time to expiry: "6 d 23 h", "5 h 12 min", "12 min"; null when there is no expiry yet. */
export function untilExpiry(quota, now = Date.now()) {
  if (!quota.expires_at) return null;
  const ms = Date.parse(quota.expires_at) - now;
  if (!(ms > 0)) return { expired: true, text: t("quota.expired") };
  const totalMinutes = Math.floor(ms / 60_000);
  const d = Math.floor(totalMinutes / 1440);
  const h = Math.floor((totalMinutes % 1440) / 60);
  const m = totalMinutes % 60;
  if (d > 0) return { expired: false, text: t("unit.dayHour", { d, h }) };
  if (h > 0) return { expired: false, text: t("unit.hourMin", { h, m }) };
  return { expired: false, text: t("unit.min", { m: Math.max(1, m) }) };
}

/** The license's condition as one word for the header. */
export function licenseState(quota, now = Date.now()) {
  if (!quota) return "unknown";
  if (quota.status !== "active") return quota.status;
  if (quota.starts_at && Date.parse(quota.starts_at) > now) return "not_started";
  if (quota.expires_at && Date.parse(quota.expires_at) <= now) return "expired";
  if (binding(quota).remaining <= 0) return "exhausted";
  return "active";
}

export function formatDate(iso) {
  return new Date(iso).toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" });
}
