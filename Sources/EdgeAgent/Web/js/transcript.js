// The session's text: sentences from `transcript` and `translation` events, grouped by the
// edge's session, shown in two panes that follow new text unless the reader scrolls up, and
// exported as plain text or SRT.

import { t, locale } from "./i18n.js";

/** One streaming session: its sentences by id, in arrival order. */
class Session {
  constructor(id, startedAt, source, target) {
    this.id = id;
    this.startedAt = startedAt;
    this.source = source;
    this.target = target;
    /** sentence_id → {id, startMs, endMs, final, text, translation: {final, text} | null} */
    this.sentences = new Map();
  }

  sentence(id) {
    let sentence = this.sentences.get(id);
    if (!sentence) {
      sentence = { id, startMs: 0, endMs: 0, final: false, text: "", translation: null };
      this.sentences.set(id, sentence);
    }
    return sentence;
  }

  get isEmpty() {
    return this.sentences.size === 0;
  }
}

export class Transcript {
  /**
   * @param {object} panes `{transcript: Pane, translation: Pane}`
   * @param {(kind: string, text: string) => void} announce called for each new final sentence
   */
  constructor(panes, announce) {
    this.panes = panes;
    this.announce = announce;
    this.sessions = [];
    this.translationOn = true;
  }

  get current() {
    return this.sessions.at(-1) ?? null;
  }

  /** Starts a new session when the edge's session id changes. */
  beginSession(id, source, target) {
    if (this.current && this.current.id === id) return;
    this.sessions.push(new Session(id, new Date(), source, target));
    this.setTranslationOn(Boolean(target));
  }

  setTranslationOn(on) {
    this.translationOn = on;
    this.panes.translation.setEmptyText(t(on ? "panes.emptyTranslation" : "panes.noTranslation"));
  }

  clear() {
    const last = this.current;
    this.sessions = [];
    // Results of a running session keep arriving under its id.
    if (last) this.sessions.push(new Session(last.id, new Date(), last.source, last.target));
    this.render();
  }

  get isEmpty() {
    return this.sessions.every((session) => session.isEmpty);
  }

  /** A `transcript` or `translation` event's `result`. */
  add(kind, result) {
    if (!this.current) this.sessions.push(new Session(null, new Date(), null, null));
    const sentence = this.current.sentence(result.sentence_id);
    if (kind === "transcript") {
      const wasFinal = sentence.final;
      sentence.text = result.text;
      sentence.final = result.final;
      sentence.startMs = result.start_ms;
      sentence.endMs = result.end_ms;
      this.renderLine("transcript", this.current, sentence);
      if (result.final && !wasFinal) this.announce("transcript", result.text);
    } else {
      const wasFinal = sentence.translation?.final ?? false;
      // Central's LLM translation may give up on a sentence (`failed`): say so, keep it out of exports.
      sentence.translation = result.failed
        ? { final: true, text: t("panes.translationFailed"), failed: true }
        : { final: result.final, text: result.text };
      if (!sentence.text && !sentence.final) {
        sentence.startMs = result.start_ms;
        sentence.endMs = result.end_ms;
      }
      this.renderLine("translation", this.current, sentence);
      if (result.final && !wasFinal) this.announce("translation", result.text);
    }
  }

  /** Rebuilds both panes (after a language change or Clear). */
  render() {
    for (const kind of ["transcript", "translation"]) {
      const pane = this.panes[kind];
      pane.reset();
      for (const session of this.sessions) {
        for (const sentence of session.sentences.values()) this.renderLine(kind, session, sentence);
      }
      pane.setEmptyText(t(kind === "transcript" ? "panes.emptyTranscript"
        : this.translationOn ? "panes.emptyTranslation" : "panes.noTranslation"));
    }
  }

  /** Creates or updates one sentence's line in one pane. */
  renderLine(kind, session, sentence) {
    const line = kind === "transcript"
      ? (sentence.text ? { text: sentence.text, final: sentence.final } : null)
      : sentence.translation;
    if (!line) return;
    const pane = this.panes[kind];
    if (!pane.hasDivider(session)) {
      pane.addDivider(session, t("panes.session", { time: session.startedAt.toLocaleTimeString(locale()) }));
    }
    pane.upsert(session, sentence.id, clock(sentence.startMs), line.text, line.final);
  }

  // Export

  /** Every sentence, final or not, with session dividers: for copying and TXT. */
  toText() {
    const out = [];
    for (const session of this.sessions) {
      if (session.isEmpty) continue;
      const pair = session.source ? ` (${session.source}${session.target ? " → " + session.target : ""})` : "";
      out.push(`${t("export.title")} — ${formatDateTime(session.startedAt)}${pair}`, "");
      for (const sentence of session.sentences.values()) {
        const stamp = `[${clock(sentence.startMs)}]`;
        if (sentence.text) out.push(`${stamp} ${sentence.text}`);
        if (sentence.translation && !sentence.translation.failed) {
          out.push(`${sentence.text ? " ".repeat(stamp.length) : stamp} ${sentence.translation.text}`);
        }
      }
      out.push("");
    }
    return out.join("\n");
  }

  /** SubRip cues: one per sentence, transcript then translation; times continue across sessions. */
  toSRT() {
    const cues = [];
    const first = this.sessions.find((session) => !session.isEmpty);
    for (const session of this.sessions) {
      if (session.isEmpty) continue;
      const offset = Math.max(0, session.startedAt - first.startedAt);
      for (const sentence of session.sentences.values()) {
        const lines = [sentence.text, sentence.translation?.failed ? "" : sentence.translation?.text].filter(Boolean);
        if (lines.length === 0) continue;
        const start = offset + sentence.startMs;
        const end = Math.max(offset + sentence.endMs, start + 500);
        cues.push(`${cues.length + 1}\n${srtTime(start)} --> ${srtTime(end)}\n${lines.join("\n")}\n`);
      }
    }
    return cues.join("\n");
  }

  fileName(extension) {
    const started = this.sessions.find((session) => !session.isEmpty)?.startedAt ?? new Date();
    const pad = (n) => String(n).padStart(2, "0");
    const stamp = `${started.getFullYear()}${pad(started.getMonth() + 1)}${pad(started.getDate())}-${pad(started.getHours())}${pad(started.getMinutes())}`;
    return `speech-edge-${stamp}.${extension}`;
  }
}

/** A scrolling list that follows new text until the reader scrolls up. */
export class Pane {
  constructor(list, scroller, jumpButton) {
    this.list = list;
    this.scroller = scroller;
    this.jumpButton = jumpButton;
    this.following = true;
    this.lastTop = 0;
    this.lines = new Map();
    this.dividers = new WeakSet();
    this.empty = document.createElement("li");
    this.empty.className = "empty";
    this.reset();
    scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    jumpButton.addEventListener("click", () => {
      this.following = true;
      this.scrollToEnd();
      this.updateJump();
      scroller.focus();
    });
  }

  reset() {
    this.lines.clear();
    this.dividers = new WeakSet();
    this.list.replaceChildren(this.empty);
    this.list.dataset.lines = "0";
  }

  setEmptyText(text) {
    this.empty.textContent = text;
  }

  hasDivider(session) {
    return this.dividers.has(session);
  }

  addDivider(session, text) {
    const divider = document.createElement("li");
    divider.className = "divider";
    divider.textContent = text;
    this.dividers.add(session);
    this.append(divider);
  }

  upsert(session, sentenceID, time, text, final) {
    let entry = this.lines.get(session)?.get(sentenceID);
    if (!entry) {
      const item = document.createElement("li");
      const stamp = document.createElement("span");
      stamp.className = "time";
      const body = document.createElement("span");
      body.className = "text";
      const note = document.createElement("span");
      note.className = "visually-hidden";
      item.append(stamp, body, note);
      item.dataset.sentence = String(sentenceID);
      entry = { item, stamp, body, note };
      if (!this.lines.has(session)) this.lines.set(session, new Map());
      this.lines.get(session).set(sentenceID, entry);
      this.list.dataset.lines = String(Number(this.list.dataset.lines) + 1);
      this.append(item);
    }
    entry.item.className = final ? "line final" : "line interim";
    entry.stamp.textContent = time;
    entry.body.textContent = text;
    entry.note.textContent = final ? "" : " " + t("panes.interim");
    if (this.following) this.scrollToEnd();
    this.updateJump();
  }

  append(item) {
    this.empty.remove();
    this.list.append(item);
  }

  onScroll() {
    const top = this.scroller.scrollTop;
    const atEnd = this.scroller.scrollHeight - top - this.scroller.clientHeight < 24;
    // Only the reader scrolls up; the page itself only ever scrolls to the end.
    if (top < this.lastTop - 1 && !atEnd) this.following = false;
    else if (atEnd) this.following = true;
    this.lastTop = top;
    this.updateJump();
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.lastTop = this.scroller.scrollTop;
  }

  updateJump() {
    this.jumpButton.hidden = this.following;
  }
}

function clock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${pad(minutes)}:${pad(seconds)}`;
}

function srtTime(ms) {
  const value = Math.max(0, Math.round(ms));
  const pad = (n, width = 2) => String(n).padStart(width, "0");
  const hours = Math.floor(value / 3_600_000);
  const minutes = Math.floor((value % 3_600_000) / 60_000);
  const seconds = Math.floor((value % 60_000) / 1000);
  return `${pad(hours)}:${pad(minutes)}:${pad(seconds)},${pad(value % 1000, 3)}`;
}

function formatDateTime(date) {
  return date.toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" });
}
