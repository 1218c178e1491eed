// Quota wording. A quota is central's QuotaSnapshot (snake_case JSON, ISO 8601 timestamps,
// seconds with millisecond precision); how close it is to running out (the warning level) is
// the edge's to say, in each quota message, and is not worked out here.

import { t, locale } from "./i18n.js";

/** Seconds left of the allowance that runs out first (the total or today's), for the warning's text. */
export function remainingSeconds(quota) {
  let remaining = quota.seconds_remaining;
  if (quota.daily_remaining_seconds != null && quota.daily_remaining_seconds < remaining) remaining = quota.daily_remaining_seconds;
  return Math.max(0, remaining);
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

/** The license's condition as one word for the header; `warning` is the edge's level for the quota. */
export function licenseState(quota, warning, now = Date.now()) {
  if (!quota) return "unknown";
  if (quota.status !== "active") return quota.status;
  if (quota.starts_at && Date.parse(quota.starts_at) > now) return "not_started";
  if (quota.expires_at && Date.parse(quota.expires_at) <= now) return "expired";
  if (warning === "exhausted") return "exhausted";
  return "active";
}

/** A timestamp in the reader's language; in `timeZone` (IANA) when given and the browser knows it. */
export function formatDate(iso, timeZone) {
  const style = { dateStyle: "medium", timeStyle: "short" };
  try {
    if (timeZone) return new Date(iso).toLocaleString(locale(), { ...style, timeZone });
  } catch {
    // An unknown zone: fall back to the reader's own.
  }
  return new Date(iso).toLocaleString(locale(), style);
}
