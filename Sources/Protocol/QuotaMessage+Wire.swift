/// The `quota` message as JSON without an encoder: every live session sends one per tick.
extension QuotaMessage {
    public var wireText: String {
        var json = WireJSONWriter()
        json.beginObject()
        if let provider {
            json.key("provider")
            provider.write(to: &json)
        }
        json.key("quota")
        quota.write(to: &json)
        json.optional("session_billed_ms", sessionBilledMs)
        json.key("type")
        json.string("quota")
        json.key("v")
        json.number(Int(ProtocolVersion.current))
        json.key("warning")
        json.string(warning.rawValue)
        json.endObject()
        return json.text
    }
}

extension ProviderInfo {
    func write(to json: inout WireJSONWriter) {
        json.beginObject()
        json.key("demo")
        json.bool(demo)
        if let model {
            json.key("model")
            json.string(model)
        }
        json.key("name")
        json.string(name)
        json.endObject()
    }
}

extension QuotaSnapshot {
    /// Keys in sorted order, optional ones omitted when nil, as `encode(to:)` writes them.
    func write(to json: inout WireJSONWriter) {
        json.beginObject()
        if let blockedBy {
            json.key("blocked_by")
            json.string(blockedBy.rawValue)
        }
        json.key("can_stream")
        json.bool(canStream)
        if let chat {
            json.key("chat")
            chat.write(to: &json)
        }
        json.key("concurrent_in_use")
        json.number(concurrentInUse)
        json.key("concurrent_limit")
        json.number(concurrentLimit)
        json.optional("daily_limit_seconds", dailyLimitSeconds)
        json.optional("daily_remaining_seconds", dailyRemainingSeconds)
        if let expiresAt {
            json.key("expires_at")
            json.date(expiresAt)
        }
        json.key("seconds_limit")
        json.number(secondsLimit)
        json.key("seconds_remaining")
        json.number(secondsRemaining)
        json.key("seconds_used")
        json.number(secondsUsed)
        json.optional("sessions_limit", sessionsLimit)
        json.optional("sessions_remaining", sessionsRemaining)
        json.key("sessions_used")
        json.number(sessionsUsed)
        if let startsAt {
            json.key("starts_at")
            json.date(startsAt)
        }
        json.key("status")
        json.string(status.rawValue)
        json.endObject()
    }
}

extension ChatQuotaSnapshot {
    /// Sorted keys, nil limits omitted, as `encode(to:)` writes them.
    func write(to json: inout WireJSONWriter) {
        json.beginObject()
        json.key("day")
        json.string(day)
        json.key("models")
        json.beginArray()
        for model in models {
            json.element()
            json.string(model)
        }
        json.endArray()
        json.optional("requests_per_day", requestsPerDay)
        json.optional("requests_per_minute", requestsPerMinute)
        json.key("requests_today")
        json.number(requestsToday)
        json.key("resets_at")
        json.date(resetsAt)
        json.key("time_zone")
        json.string(timeZone)
        json.optional("tokens_per_day", tokensPerDay)
        json.key("tokens_today")
        json.number(tokensToday)
        json.optional("tokens_total", tokensTotal)
        json.key("tokens_used")
        json.number(tokensUsed)
        json.endObject()
    }
}
