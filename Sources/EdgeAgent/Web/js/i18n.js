// UI strings in English and Simplified Chinese, and the plain sentence for every stable error
// code. `t(key, params)` fills `{name}` placeholders. The chosen language is kept in
// localStorage so the page opens in it next time.

const STORAGE_KEY = "speech-edge.lang";

export const LANGUAGES = ["en", "zh"];

const strings = {
  en: {
    "app.tagline": "Live transcription and translation",
    "app.skip": "Skip to the transcript",
    "lang.label": "Interface language",
    "header.central": "Central",
    "header.license": "License",
    "header.page": "Edge agent",
    "central.checking": "Checking…",
    "central.ready": "Ready",
    "central.connecting": "Connecting…",
    "central.streaming": "Streaming",
    "central.reconnecting": "Reconnecting…",
    "central.unreachable": "Unreachable",
    "license.active": "Active",
    "license.suspended": "Suspended",
    "license.revoked": "Revoked",
    "license.expired": "Expired",
    "license.not_started": "Not started yet",
    "license.exhausted": "No minutes left",
    "license.unknown": "Unknown",
    "page.disconnected": "Disconnected",
    "demo.badge": "Demo provider",
    "demo.title": "Results come from the built-in demo provider: it marks speech segments and does not really recognise or translate speech.",

    "quota.heading": "Quota",
    "quota.minutes": "Minutes remaining",
    "quota.of": "of {total}",
    "quota.daily": "Today: {remaining} left of {total}",
    "quota.sessions": "Sessions left",
    "quota.sessionsValue": "{remaining} of {total}",
    "quota.unlimited": "Unlimited",
    "quota.expires": "Expires in",
    "quota.expired": "Expired",
    "quota.firstUse": "Starts at first use",
    "quota.concurrency": "Streams in use",
    "quota.concurrencyValue": "{used} of {limit}",
    "quota.unavailable": "The quota is not available yet.",
    "quota.bar": "Minutes remaining",
    "quota.expiresAt": "Expires {date}",
    "chat.heading": "Chat API",
    "chat.requestsToday": "Requests today",
    "chat.tokensToday": "Tokens today",
    "chat.tokensTotal": "Tokens in total",
    "chat.models": "Models",
    "chat.usedOf": "{used} of {limit}",
    "chat.perMinute": "At most {limit} requests a minute.",
    "chat.resets": "Today's chat counts start again {date} ({zone}).",

    "unit.minSec": "{m} min {s} s",
    "unit.sec": "{s} s",
    "unit.min": "{m} min",
    "unit.dayHour": "{d} d {h} h",
    "unit.hourMin": "{h} h {m} min",

    "controls.heading": "Session",
    "controls.source": "Speech language",
    "controls.target": "Translate into",
    "controls.noTarget": "None (transcription only)",
    "controls.device": "Microphone",
    "controls.deviceDefault": "Default (set on the edge)",
    "controls.deviceBrowser": "This browser's microphone",
    "controls.start": "Start",
    "controls.stop": "Stop",
    "controls.level": "Input level",
    "controls.levelValue": "{db} dBFS",
    "controls.levelSilent": "Silent",

    "browserMic.offer": "The edge found no microphone (common with Docker Desktop on macOS and Windows). You can use this browser's microphone instead.",
    "browserMic.use": "Use this browser's microphone",
    "browserMic.active": "Using this browser's microphone. Keep this tab open while you speak.",

    "state.ready": "Ready. Choose the languages and press Start.",
    "state.starting": "Starting…",
    "state.connecting": "Connecting to central…",
    "state.streaming": "Listening — speak now.",
    "state.reconnecting": "The connection to central dropped; reconnecting. Audio is kept meanwhile.",
    "state.stopping": "Stopping…",
    "state.stopped": "Stopped.",
    "state.micStarting": "Opening the microphone…",
    "state.micReopening": "The microphone stopped; trying to open it again…",
    "state.pageOffline": "Lost the connection to the edge agent on this computer; reconnecting…",
    "state.browserOrphan": "This session takes its audio from a browser page that is no longer sending it. Press Stop, then Start again.",

    "panes.transcript": "Transcript",
    "panes.translation": "Translation",
    "panes.emptyTranscript": "Press Start and speak. The transcript appears here.",
    "panes.emptyTranslation": "The translation appears here.",
    "panes.translationFailed": "(This sentence could not be translated in time.)",
    "panes.noTranslation": "Translation is off (transcription only).",
    "panes.jump": "Auto-scroll paused — jump to latest",
    "panes.interim": "(still listening)",
    "panes.session": "Session started {time}",
    "panes.copy": "Copy",
    "panes.txt": "Download TXT",
    "panes.srt": "Download SRT",
    "panes.clear": "Clear",
    "panes.copied": "Copied the session to the clipboard.",
    "panes.copyFailed": "Could not copy. Select the text and copy it yourself, or download it.",
    "panes.nothing": "There is no text yet.",
    "panes.actions": "Session text",
    "panes.announceTranscript": "Transcript: {text}",
    "panes.announceTranslation": "Translation: {text}",
    "export.title": "Speech Edge session",

    "warning.used_80_percent": "80 % of the minutes are used — {remaining} left.",
    "warning.used_95_percent": "95 % of the minutes are used — only {remaining} left. Ask your vendor for more minutes soon.",
    "warning.last_60_seconds": "Less than a minute left ({remaining}). The stream stops by itself when it runs out.",
    "warning.last_10_seconds": "Only {remaining} left. The stream is about to stop.",
    "warning.exhausted": "No minutes left on this license. Contact your vendor to add more.",

    "more.heading": "Need more minutes?",
    "more.open": "Ask for more minutes",
    "more.minutes": "Minutes",
    "more.note": "A note for your vendor (optional)",
    "more.send": "Send the request",
    "more.cancel": "Cancel",
    "more.invalid": "Enter a whole number of minutes from 1 to 100,000.",
    "more.pending": "You asked for {minutes} more minutes on {when}. Waiting for your vendor's answer…",
    "more.approved": "Your vendor added {minutes} minutes.",
    "more.declined": "Your vendor declined the request for more minutes.",
    "more.answer": "Their note: “{answer}”",

    "error.dismiss": "Dismiss",
    "error.code": "Code: {code}",
    "error.unknown": "Something went wrong: {message}",
  },
  zh: {
    "app.tagline": "实时转写与翻译",
    "app.skip": "跳到转写内容",
    "lang.label": "界面语言",
    "header.central": "中心服务",
    "header.license": "许可证",
    "header.page": "边缘代理",
    "central.checking": "检查中…",
    "central.ready": "就绪",
    "central.connecting": "正在连接…",
    "central.streaming": "正在传输",
    "central.reconnecting": "正在重新连接…",
    "central.unreachable": "无法连接",
    "license.active": "有效",
    "license.suspended": "已暂停",
    "license.revoked": "已吊销",
    "license.expired": "已过期",
    "license.not_started": "尚未生效",
    "license.exhausted": "分钟数已用完",
    "license.unknown": "未知",
    "page.disconnected": "已断开",
    "demo.badge": "演示引擎",
    "demo.title": "结果来自内置演示引擎：它只标出语音片段，并不会真正识别或翻译语音。",

    "quota.heading": "额度",
    "quota.minutes": "剩余时长",
    "quota.of": "共 {total}",
    "quota.daily": "今日剩余 {remaining}，每日上限 {total}",
    "quota.sessions": "剩余会话数",
    "quota.sessionsValue": "{remaining} / {total}",
    "quota.unlimited": "不限",
    "quota.expires": "距到期",
    "quota.expired": "已过期",
    "quota.firstUse": "首次使用时开始计时",
    "quota.concurrency": "正在使用的并发数",
    "quota.concurrencyValue": "{used} / {limit}",
    "quota.unavailable": "暂时无法获取额度。",
    "quota.bar": "剩余时长",
    "quota.expiresAt": "到期时间 {date}",
    "chat.heading": "对话 API",
    "chat.requestsToday": "今日请求数",
    "chat.tokensToday": "今日令牌数",
    "chat.tokensTotal": "累计令牌数",
    "chat.models": "可用模型",
    "chat.usedOf": "{used} / {limit}",
    "chat.perMinute": "每分钟最多 {limit} 次请求。",
    "chat.resets": "今日对话用量将于 {date}（{zone}）重新计算。",

    "unit.minSec": "{m} 分 {s} 秒",
    "unit.sec": "{s} 秒",
    "unit.min": "{m} 分钟",
    "unit.dayHour": "{d} 天 {h} 小时",
    "unit.hourMin": "{h} 小时 {m} 分钟",

    "controls.heading": "会话",
    "controls.source": "语音语言",
    "controls.target": "翻译为",
    "controls.noTarget": "不翻译（仅转写）",
    "controls.device": "麦克风",
    "controls.deviceDefault": "默认（在边缘设备上设置）",
    "controls.deviceBrowser": "本浏览器的麦克风",
    "controls.start": "开始",
    "controls.stop": "停止",
    "controls.level": "输入音量",
    "controls.levelValue": "{db} dBFS",
    "controls.levelSilent": "无声音",

    "browserMic.offer": "边缘设备没有找到麦克风（在 macOS 和 Windows 的 Docker Desktop 上很常见）。您可以改用本浏览器的麦克风。",
    "browserMic.use": "使用本浏览器的麦克风",
    "browserMic.active": "正在使用本浏览器的麦克风。说话期间请保持此标签页打开。",

    "state.ready": "就绪。请选择语言，然后点击“开始”。",
    "state.starting": "正在开始…",
    "state.connecting": "正在连接中心服务…",
    "state.streaming": "正在聆听，请说话。",
    "state.reconnecting": "与中心服务的连接中断，正在重新连接。其间的音频会被保留。",
    "state.stopping": "正在停止…",
    "state.stopped": "已停止。",
    "state.micStarting": "正在打开麦克风…",
    "state.micReopening": "麦克风已停止工作，正在尝试重新打开…",
    "state.pageOffline": "与本机边缘代理的连接中断，正在重新连接…",
    "state.browserOrphan": "此会话的音频来自一个已不再发送音频的浏览器页面。请点击“停止”，然后重新开始。",

    "panes.transcript": "转写",
    "panes.translation": "翻译",
    "panes.emptyTranscript": "点击“开始”并说话，转写内容会显示在这里。",
    "panes.emptyTranslation": "译文会显示在这里。",
    "panes.translationFailed": "（这句未能及时翻译。）",
    "panes.noTranslation": "未开启翻译（仅转写）。",
    "panes.jump": "已暂停自动滚动 — 跳到最新",
    "panes.interim": "（仍在识别）",
    "panes.session": "会话开始于 {time}",
    "panes.copy": "复制",
    "panes.txt": "下载 TXT",
    "panes.srt": "下载 SRT",
    "panes.clear": "清空",
    "panes.copied": "已将本次会话内容复制到剪贴板。",
    "panes.copyFailed": "无法复制。请手动选中文字复制，或下载文件。",
    "panes.nothing": "还没有任何文字。",
    "panes.actions": "会话文字",
    "panes.announceTranscript": "转写：{text}",
    "panes.announceTranslation": "翻译：{text}",
    "export.title": "Speech Edge 会话",

    "warning.used_80_percent": "已用掉 80% 的时长，剩余 {remaining}。",
    "warning.used_95_percent": "已用掉 95% 的时长，仅剩 {remaining}。请尽快联系供应商增加时长。",
    "warning.last_60_seconds": "剩余不到 1 分钟（{remaining}）。用完后传输会自动停止。",
    "warning.last_10_seconds": "仅剩 {remaining}，传输即将停止。",
    "warning.exhausted": "此许可证的时长已用完。请联系供应商增加时长。",

    "more.heading": "需要更多时长？",
    "more.open": "申请更多时长",
    "more.minutes": "分钟数",
    "more.note": "给供应商的备注（可选）",
    "more.send": "发送申请",
    "more.cancel": "取消",
    "more.invalid": "请输入 1 到 100,000 之间的整数分钟数。",
    "more.pending": "您已于 {when} 申请增加 {minutes} 分钟，正在等待供应商答复…",
    "more.approved": "供应商已为您增加 {minutes} 分钟。",
    "more.declined": "供应商拒绝了本次增加时长的申请。",
    "more.answer": "供应商备注：“{answer}”",

    "error.dismiss": "关闭",
    "error.code": "错误代码：{code}",
    "error.unknown": "出现问题：{message}",
  },
};

// One plain sentence per stable code, saying what happened and what to do.
const errors = {
  en: {
    // Admission and license state.
    license_not_found: "The edge's license key is not known to the vendor. Check LICENSE_KEY, or ask your vendor for a new key.",
    license_revoked: "This license has been revoked. Contact your vendor.",
    license_suspended: "This license is suspended. Contact your vendor to resume it.",
    license_not_started: "This license is not valid yet. Try again after its start date, or contact your vendor.",
    license_expired: "This license has expired. Contact your vendor to extend it.",
    ip_not_allowed: "This network is not allowed to use the license. Connect from an allowed network, or ask your vendor to add it.",
    device_not_allowed: "This license is already used on its maximum number of devices. Ask your vendor to reset or add devices.",
    minutes_exhausted: "No minutes are left on this license. Contact your vendor to add more.",
    daily_limit_reached: "Today's minutes are used up. Try again tomorrow (the day changes at midnight UTC), or ask your vendor to raise the daily limit.",
    sessions_exhausted: "No sessions are left on this license. Contact your vendor to add more.",
    concurrency_limit: "Another device is streaming with this license right now. Stop it there, or wait until it finishes, then press Start again.",
    license_key_missing: "The edge has no license key. Set LICENSE_KEY and restart edge-agent.",
    license_key_malformed: "The license key looks mistyped. Check LICENSE_KEY and restart edge-agent.",
    rate_limited: "Too many failed attempts from this network. Wait a minute, then try again.",
    admin_unauthorized: "The request was not authorised. Contact your vendor.",
    // Edge and central availability.
    central_unreachable: "The edge cannot reach the vendor's server. Check this computer's internet connection or proxy, then try again.",
    unavailable: "The vendor's server is not ready. Try again in a minute.",
    internal_error: "The vendor's server had an internal error. Try again; if it keeps happening, contact your vendor.",
    server_shutdown: "The vendor's server is restarting. Press Start again in a moment.",
    server_restart: "The vendor's server restarted and ended the session. Press Start again.",
    instance_lost: "The vendor's server that carried the session stopped answering, and the session was ended. Press Start again.",
    session_moved: "The session continues on another connection.",
    connection_lost: "The connection to the vendor's server was lost for too long and the session ended. Check the network, then press Start again.",
    edge_timeout: "The vendor's server heard nothing from this edge for too long. Check the network and the microphone, then press Start again.",
    session_not_resumable: "The session could not be resumed after a network outage. Press Start again.",
    lease_lost: "The session's slot on the vendor's server was released. Press Start again.",
    session_streaming: "That session is still streaming. Stop it first.",
    audio_too_fast: "Audio reached the vendor's server faster than real time and some was not accepted. If the text stops, press Stop and Start again.",
    stopped_by_admin: "The vendor ended this session. Contact your vendor if you did not expect this.",
    already_streaming: "A session is already running. Stop it first.",
    not_streaming: "No session is running.",
    host_not_allowed: "Open this page as http://localhost (or 127.0.0.1) on the computer running the edge agent.",
    origin_not_allowed: "Open this page directly at http://localhost on the computer running the edge agent.",
    invalid_path: "The edge agent does not offer this address. Reload the page at http://localhost and try again.",
    unsupported_media_type: "The request was not understood. Reload the page and try again.",
    invalid_device: "The edge does not offer this microphone (any more). Choose one from the list, then press Start again.",
    // Chat (LLM) quotas: shown where the page reports chat usage.
    chat_not_enabled: "This license does not include chat access. Ask your vendor to add it.",
    model_not_allowed: "This license may not use that model. Choose one of the models your vendor allows.",
    chat_rate_limited: "Too many chat requests this minute. Wait a moment, then try again.",
    chat_daily_requests_exhausted: "Today's chat requests are used up. Try again after the day changes, or ask your vendor to raise the limit.",
    chat_daily_tokens_exhausted: "Today's chat tokens are used up. Try again after the day changes, or ask your vendor to raise the limit.",
    chat_tokens_exhausted: "No chat tokens are left on this license. Contact your vendor to add more.",
    upstream_unavailable: "The language-model service is unavailable right now. Try again in a few minutes.",
    upstream_timeout: "The language-model service took too long to answer. Try again.",
    // Requests for more minutes, and the vendor's console (shown to operators, listed for completeness).
    minutes_request_pending: "A request for more minutes is already waiting for your vendor's answer.",
    minutes_request_limit: "This license has asked for more minutes too often today. Try again tomorrow.",
    role_forbidden: "Your role does not allow this action.",
    csrf_rejected: "The request was refused as coming from another page. Reload and try again.",
    console_session_expired: "The console session has ended. Sign in again.",
    already_exists: "Something with this name already exists.",
    // Speech provider.
    provider_unavailable: "The speech service is unavailable right now. Try again in a few minutes; if it persists, contact your vendor.",
    provider_at_capacity: "The speech service is fully booked right now. Try again in a minute.",
    provider_auth_failed: "The vendor's speech-service account was refused. Contact your vendor.",
    provider_rate_limited: "The speech service is busy. Wait a moment, then press Start again.",
    provider_failed: "The speech service failed on this audio. Press Start again; if it keeps happening, contact your vendor.",
    provider_timeout: "The speech service stopped answering. Press Start again.",
    unsupported_language_pair: "This language pair is not available. Choose another speech or target language.",
    // Protocol problems: a version mismatch between the edge and central.
    malformed_message: "The edge and the vendor's server do not understand each other. Update edge-agent, or contact your vendor.",
    unknown_message_type: "The edge and the vendor's server do not understand each other. Update edge-agent, or contact your vendor.",
    unsupported_version: "This edge-agent version is not supported by the vendor's server. Update edge-agent.",
    invalid_message: "The request was not understood. Reload the page and try again.",
    unexpected_message: "The edge and the vendor's server got out of step. Press Start again.",
    malformed_frame: "Some audio could not be read by the vendor's server. If the text stops, press Stop and Start again.",
    frame_too_large: "Some audio could not be read by the vendor's server. If the text stops, press Stop and Start again.",
    invalid_opus_packet: "Some audio could not be read by the vendor's server. If the text stops, press Stop and Start again.",
    payload_too_large: "The request was too large. Reload the page and try again.",
    malformed_request: "The request was not understood. Reload the page and try again.",
    request_head_too_large: "The request was too large. Reload the page and try again.",
    // Request validation (the page and edge disagree: usually an outdated page).
    malformed_json: "The request was not understood. Reload the page and try again.",
    unknown_field: "The request was not understood. Reload the page and try again.",
    missing_field: "The request was not understood. Reload the page and try again.",
    invalid_type: "The request was not understood. Reload the page and try again.",
    string_too_long: "The request was not understood. Reload the page and try again.",
    negative_number: "The request was not understood. Reload the page and try again.",
    invalid_value: "The request was not understood. Reload the page and try again.",
    invalid_query: "The request was not understood. Reload the page and try again.",
    not_found: "The edge agent does not offer this yet. Update edge-agent.",
    lease_not_found: "The session's slot had already been released. Press Start again.",
    invalid_transition: "The license cannot change that way. Contact your vendor.",
    idempotency_conflict: "A conflicting request was already made. Reload the page and try again.",
    // Browser-microphone audio the edge could not take.
    browser_audio_not_expected: "The edge was not expecting audio from this page. Press Stop, choose \"This browser's microphone\", then Start again.",
    invalid_audio_frame: "The edge could not read this browser's audio. Reload the page and press Start again; if it keeps happening, try another browser.",
    // Vendor-side provider key administration (shown only to operators).
    master_key_missing: "The vendor's server has no key to protect speech-service keys. The vendor must configure it.",
    duplicate_key: "This speech-service key is already stored.",
    // Page-side problems (browser microphone, connection to the edge).
    mic_permission_denied: "The browser was not allowed to use the microphone. Allow microphone access for this page (the icon in the address bar), then press Start again.",
    mic_not_found: "This browser found no microphone. Plug one in, then press Start again.",
    mic_unavailable: "The browser could not open the microphone. Close other apps that use it, then press Start again.",
    mic_unsupported: "This browser cannot capture audio here. Use a current Chrome, Edge or Firefox and open the page as http://localhost.",
    no_device: "The edge cannot open its microphone ({detail}). Check the device or AUDIO_DEVICE, or use this browser's microphone.",
    page_offline: "The edge agent on this computer is not answering. Check that edge-agent is running, then reload the page.",
  },
  zh: {
    license_not_found: "供应商不认识此边缘设备的许可证密钥。请检查 LICENSE_KEY，或向供应商索取新密钥。",
    license_revoked: "此许可证已被吊销。请联系供应商。",
    license_suspended: "此许可证已被暂停。请联系供应商恢复。",
    license_not_started: "此许可证尚未生效。请在生效日期后重试，或联系供应商。",
    license_expired: "此许可证已过期。请联系供应商延期。",
    ip_not_allowed: "当前网络不允许使用此许可证。请从允许的网络连接，或请供应商添加此网络。",
    device_not_allowed: "此许可证绑定的设备数已达上限。请联系供应商重置或增加设备数。",
    minutes_exhausted: "此许可证的时长已用完。请联系供应商增加时长。",
    daily_limit_reached: "今日时长已用完。请明天再试（按 UTC 零点换日），或请供应商提高每日上限。",
    sessions_exhausted: "此许可证的会话次数已用完。请联系供应商增加次数。",
    concurrency_limit: "另一台设备正在使用此许可证传输音频。请先在那台设备上停止，或等待其结束，然后再点击“开始”。",
    license_key_missing: "边缘设备没有许可证密钥。请设置 LICENSE_KEY 并重新启动 edge-agent。",
    license_key_malformed: "许可证密钥格式有误，可能输错了。请检查 LICENSE_KEY 并重新启动 edge-agent。",
    rate_limited: "此网络的失败尝试过多。请等待一分钟后重试。",
    admin_unauthorized: "请求未获授权。请联系供应商。",
    central_unreachable: "边缘设备无法连接供应商的服务器。请检查本机的网络或代理，然后重试。",
    unavailable: "供应商的服务器尚未就绪。请一分钟后重试。",
    internal_error: "供应商的服务器出现内部错误。请重试；如果反复出现，请联系供应商。",
    server_shutdown: "供应商的服务器正在重启。请稍后再次点击“开始”。",
    server_restart: "供应商的服务器已重启并结束了本次会话。请再次点击“开始”。",
    instance_lost: "承载本次会话的供应商服务器已无响应，会话已结束。请再次点击“开始”。",
    session_moved: "本次会话已在另一个连接上继续。",
    connection_lost: "与供应商服务器的连接中断时间过长，会话已结束。请检查网络，然后再次点击“开始”。",
    edge_timeout: "供应商的服务器长时间未收到此边缘设备的数据。请检查网络和麦克风，然后再次点击“开始”。",
    session_not_resumable: "网络中断后无法恢复会话。请再次点击“开始”。",
    lease_lost: "供应商服务器上本会话的名额已被释放。请再次点击“开始”。",
    session_streaming: "该会话仍在传输中。请先停止它。",
    audio_too_fast: "音频到达供应商服务器的速度快于实时，部分音频未被接收。如果文字停止更新，请点击“停止”后再点击“开始”。",
    stopped_by_admin: "供应商结束了本次会话。如非预期，请联系供应商。",
    already_streaming: "已有会话正在进行。请先停止。",
    not_streaming: "当前没有进行中的会话。",
    host_not_allowed: "请在运行边缘代理的电脑上通过 http://localhost（或 127.0.0.1）打开此页面。",
    origin_not_allowed: "请在运行边缘代理的电脑上直接打开 http://localhost 页面。",
    invalid_path: "边缘代理不提供此地址。请在 http://localhost 重新打开页面后重试。",
    unsupported_media_type: "请求无法识别。请刷新页面后重试。",
    invalid_device: "边缘设备（已）不提供此麦克风。请从列表中选择一个，然后再次点击开始。",
    chat_not_enabled: "此许可证不包含对话（大模型）功能。请联系供应商开通。",
    model_not_allowed: "此许可证不能使用该模型。请选择供应商允许的模型。",
    chat_rate_limited: "本分钟的对话请求过多。请稍候再试。",
    chat_daily_requests_exhausted: "今日的对话请求次数已用完。请在换日后重试，或请供应商提高上限。",
    chat_daily_tokens_exhausted: "今日的对话令牌（token）已用完。请在换日后重试，或请供应商提高上限。",
    chat_tokens_exhausted: "此许可证的对话令牌（token）已用完。请联系供应商增加额度。",
    upstream_unavailable: "大模型服务暂时不可用。请几分钟后重试。",
    upstream_timeout: "大模型服务响应超时。请重试。",
    minutes_request_pending: "已有一个增加时长的申请在等待供应商答复。",
    minutes_request_limit: "此许可证今天申请增加时长的次数过多。请明天再试。",
    role_forbidden: "您的角色无权执行此操作。",
    csrf_rejected: "该请求被视为来自其他页面而被拒绝。请刷新后重试。",
    console_session_expired: "控制台会话已结束。请重新登录。",
    already_exists: "同名的项目已存在。",
    provider_unavailable: "语音服务暂时不可用。请几分钟后重试；如果持续出现，请联系供应商。",
    provider_at_capacity: "语音服务当前已满负荷。请一分钟后重试。",
    provider_auth_failed: "供应商的语音服务账户被拒绝。请联系供应商。",
    provider_rate_limited: "语音服务繁忙。请稍候，然后再次点击“开始”。",
    provider_failed: "语音服务处理这段音频时出错。请再次点击“开始”；如果反复出现，请联系供应商。",
    provider_timeout: "语音服务停止响应。请再次点击“开始”。",
    unsupported_language_pair: "不支持此语言组合。请选择其他语音语言或目标语言。",
    malformed_message: "边缘设备与供应商服务器无法互相理解。请更新 edge-agent，或联系供应商。",
    unknown_message_type: "边缘设备与供应商服务器无法互相理解。请更新 edge-agent，或联系供应商。",
    unsupported_version: "供应商的服务器不支持此版本的 edge-agent。请更新 edge-agent。",
    invalid_message: "请求无法识别。请刷新页面后重试。",
    unexpected_message: "边缘设备与供应商服务器的状态不同步。请再次点击“开始”。",
    malformed_frame: "部分音频无法被供应商服务器读取。如果文字停止更新，请先停止再重新开始。",
    frame_too_large: "部分音频无法被供应商服务器读取。如果文字停止更新，请先停止再重新开始。",
    invalid_opus_packet: "部分音频无法被供应商服务器读取。如果文字停止更新，请先停止再重新开始。",
    payload_too_large: "请求过大。请刷新页面后重试。",
    malformed_request: "请求无法识别。请刷新页面后重试。",
    request_head_too_large: "请求过大。请刷新页面后重试。",
    malformed_json: "请求无法识别。请刷新页面后重试。",
    unknown_field: "请求无法识别。请刷新页面后重试。",
    missing_field: "请求无法识别。请刷新页面后重试。",
    invalid_type: "请求无法识别。请刷新页面后重试。",
    string_too_long: "请求无法识别。请刷新页面后重试。",
    negative_number: "请求无法识别。请刷新页面后重试。",
    invalid_value: "请求无法识别。请刷新页面后重试。",
    invalid_query: "请求无法识别。请刷新页面后重试。",
    not_found: "此版本的边缘代理尚不提供该功能。请更新 edge-agent。",
    lease_not_found: "会话占用的名额已被释放。请再次点击“开始”。",
    invalid_transition: "许可证无法进行此项变更。请联系供应商。",
    idempotency_conflict: "已有一个相冲突的请求。请刷新页面后重试。",
    browser_audio_not_expected: "边缘设备没有在等待此页面的音频。请点击“停止”，选择“本浏览器的麦克风”，然后重新开始。",
    invalid_audio_frame: "边缘设备无法读取此浏览器的音频。请刷新页面后重新开始；如果反复出现，请换一个浏览器。",
    master_key_missing: "供应商的服务器没有用于保护语音服务密钥的主密钥，需要由供应商配置。",
    duplicate_key: "此语音服务密钥已存在。",
    mic_permission_denied: "浏览器未获准使用麦克风。请在地址栏的图标中允许此页面使用麦克风，然后再次点击“开始”。",
    mic_not_found: "浏览器没有找到麦克风。请接上麦克风，然后再次点击“开始”。",
    mic_unavailable: "浏览器无法打开麦克风。请关闭正在使用麦克风的其他程序，然后再次点击“开始”。",
    mic_unsupported: "此浏览器在这里无法采集音频。请使用新版 Chrome、Edge 或 Firefox，并通过 http://localhost 打开此页面。",
    no_device: "边缘设备无法打开麦克风（{detail}）。请检查设备或 AUDIO_DEVICE 设置，或改用本浏览器的麦克风。",
    page_offline: "本机的边缘代理没有响应。请确认 edge-agent 正在运行，然后刷新页面。",
  },
};

let current = initialLanguage();

function initialLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(saved)) return saved;
  } catch { /* storage may be disabled */ }
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

export function language() {
  return current;
}

/** BCP 47 tag of the UI language, for `lang` attributes and Intl. */
export function locale() {
  return current === "zh" ? "zh-CN" : "en";
}

export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  current = lang;
  try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* not remembered then */ }
}

function fill(template, params) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export function t(key, params = {}) {
  const template = strings[current][key] ?? strings.en[key] ?? key;
  return fill(template, params);
}

/** The codes that have a sentence in `lang` (the browser tests check every stable code has one). */
export function errorCodes(lang) {
  return Object.keys(errors[lang] ?? {});
}

/** The plain sentence for a stable code; unknown codes show the server's own message. */
export function errorText(code, message, params = {}) {
  const template = errors[current][code] ?? errors.en[code];
  if (template) return fill(template, { detail: message || code, ...params });
  return t("error.unknown", { message: message || code });
}

/** Applies `data-i18n` (text) and `data-i18n-<attr>` (attributes) throughout `root`. */
export function translateDocument(root = document) {
  document.documentElement.lang = locale();
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const attribute of ["title", "aria-label", "placeholder"]) {
    const dataName = "i18n" + attribute.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase());
    for (const element of root.querySelectorAll(`[data-i18n-${attribute}]`)) {
      element.setAttribute(attribute, t(element.dataset[dataName]));
    }
  }
}

/** A language code's name in the UI language, e.g. "Chinese (zh)" or "英语 (en)". */
export function languageName(code) {
  let name = code;
  try {
    const names = new Intl.DisplayNames([locale()], { type: "language" });
    name = names.of(code) || code;
  } catch { /* old browser: the code alone */ }
  return name === code ? code : `${name} (${code})`;
}
