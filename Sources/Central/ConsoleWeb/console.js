// The console's entry: sign-in and sign-out (Sources/Central/Console/ConsoleController.swift),
// the hash router, the nav (role-aware, aria-current), the pending-requests badge, the language
// switch and the idle sign-out.

import { t, getLang, setLang, relocalize, onLangChange, fmtNum } from "./i18n.js";
import { api, session, can, whenSignedOut } from "./api.js";
import { h, byId, clear, hideToast, wireAmountDialog, wireDecisionDialog, status } from "./dom.js";
import { report, pageHeading } from "./common.js";
import { renderLicenses, renderLicense } from "./licenses.js";
import { renderSessions, renderUsage, renderRequests } from "./activity.js";
import { renderKeys, renderPlans, renderWebhooks, renderOperators, renderAudit, renderInstances } from "./admin.js";

const ROUTES = {
  licenses: renderLicenses,
  license: renderLicense,
  sessions: renderSessions,
  usage: renderUsage,
  requests: renderRequests,
  keys: renderKeys,
  plans: renderPlans,
  webhooks: renderWebhooks,
  operators: renderOperators,
  audit: renderAudit,
  instances: renderInstances,
};
const ADMIN_ONLY = ["webhooks", "operators"];

let signedIn = false;
let routeToken = 0;
let cleanups = [];
let badgeTimer = null;
let idleTimer = null;
let lastActivity = Date.now();
let pendingCount = 0;
let currentPage = null;

// ---- routing ---------------------------------------------------------------------------------

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [page, ...rest] = raw.split("/");
  let arg = null;
  if (rest.length) {
    try {
      arg = decodeURIComponent(rest.join("/"));
    } catch {
      arg = rest.join("/");
    }
  }
  return { page: page || "licenses", arg };
}

function leavePage() {
  routeToken += 1;
  for (const stop of cleanups) stop();
  cleanups = [];
}

function makeContext(token) {
  const ctx = {
    alive: () => signedIn && token === routeToken,
    /** Runs fn every ms while this page is shown (skipped while the tab is hidden or a run is
     * still going); the returned function stops it early. */
    every(ms, fn) {
      let busy = false;
      const id = setInterval(async () => {
        if (busy || !ctx.alive() || document.hidden) return;
        busy = true;
        try {
          await fn();
        } finally {
          busy = false;
        }
      }, ms);
      const stop = () => clearInterval(id);
      cleanups.push(stop);
      return stop;
    },
    refreshBadge: () => refreshBadge(),
  };
  return ctx;
}

function markNav(page) {
  for (const link of document.querySelectorAll("#nav a[data-page]")) {
    if (link.dataset.page === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function pageTitle() {
  const key = currentPage && ROUTES[currentPage] ? `page.${currentPage === "license" ? "license" : currentPage}` : "page.notFound";
  return `${t(key)} — ${t("app.title")}`;
}

async function route(moveFocus) {
  if (!signedIn) return;
  leavePage();
  const token = routeToken;
  const { page, arg } = parseHash();
  const view = byId("view");
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close("cancel");
  clear(view);
  currentPage = page;
  markNav(page === "license" ? "licenses" : page);
  document.title = pageTitle();
  const render = ROUTES[page];
  if (!render || (page === "license" && !arg)) {
    currentPage = null;
    document.title = pageTitle();
    view.append(pageHeading("page.notFound"), h("p", null, h("a", { href: "#/licenses", i18n: "license.back" })));
    if (moveFocus) byId("page-title").focus();
    return;
  }
  const running = render(view, makeContext(token), arg);
  const heading = byId("page-title");
  if (moveFocus && heading) heading.focus();
  try {
    await running;
  } catch (error) {
    report(error);
  }
}

// ---- pending requests badge -------------------------------------------------------------------

function showBadge() {
  const badge = byId("requests-badge");
  const link = document.querySelector('#nav a[data-page="requests"]');
  badge.textContent = fmtNum(pendingCount, 0);
  badge.dataset.count = String(pendingCount);
  badge.hidden = pendingCount === 0;
  if (pendingCount) link.setAttribute("aria-label", t("nav.requestsPending", { n: pendingCount }));
  else link.removeAttribute("aria-label");
}

async function refreshBadge() {
  if (!signedIn) return;
  try {
    const body = await api("GET", "/minutes-requests?status=pending&limit=1000");
    if (!signedIn) return;
    pendingCount = (body.requests || []).length;
    showBadge();
  } catch (error) {
    report(error);
  }
}

// ---- signing in and out -------------------------------------------------------------------------

function showWhoami() {
  const who = byId("whoami");
  clear(who).append(
    h("span", { class: "who-name", text: session.name }), " ",
    h("span", { class: "badge badge-role", "data-role": session.role, text: t("whoami.role", { role: t(`role.${session.role}`), raw: session.role }) }));
}

function enterShell(body) {
  session.name = body.name;
  session.role = body.role;
  session.csrf = body.csrf_token;
  session.idleSeconds = body.idle_timeout_seconds || 900;
  signedIn = true;
  lastActivity = Date.now();
  byId("signin-section").hidden = true;
  byId("signin-error").hidden = true;
  byId("signin-token").value = "";
  for (const el of document.querySelectorAll(".signed-in")) el.hidden = false;
  for (const page of ADMIN_ONLY) {
    document.querySelector(`#nav a[data-page="${page}"]`).closest("li").hidden = !can("admin");
  }
  showWhoami();
  clearInterval(badgeTimer);
  badgeTimer = setInterval(() => { if (!document.hidden) refreshBadge(); }, 15000);
  clearInterval(idleTimer);
  idleTimer = setInterval(checkIdle, 5000);
  refreshBadge();
  if (!location.hash || location.hash === "#" || location.hash === "#/") history.replaceState(null, "", "#/licenses");
  route(false);
}

function showSignIn(message, messageCode) {
  signedIn = false;
  leavePage();
  clearInterval(badgeTimer);
  clearInterval(idleTimer);
  session.csrf = "";
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close("cancel");
  for (const el of document.querySelectorAll(".signed-in")) el.hidden = true;
  clear(byId("view"));
  clear(byId("whoami"));
  markNav(null);
  document.title = t("app.title");
  byId("signin-section").hidden = false;
  const error = byId("signin-error");
  clear(error);
  if (message) {
    error.append(h("span", { text: message }));
    if (messageCode) error.append(" ", h("code", { text: messageCode }));
  }
  error.hidden = !message;
  byId("signin-submit").disabled = false;
  byId("signin-token").focus();
}

async function signIn(event) {
  event.preventDefault();
  const token = byId("signin-token").value.trim();
  const name = byId("signin-name").value.trim();
  const error = byId("signin-error");
  const button = byId("signin-submit");
  if (!token) {
    clear(error).append(h("span", { text: t("signin.needToken") }));
    error.hidden = false;
    byId("signin-token").focus();
    return;
  }
  button.disabled = true;
  try {
    const body = await api("POST", "/v1/console/session", name ? { token, name } : { token });
    hideToast();
    enterShell(body);
  } catch (failure) {
    let message = failure.message || t("error.unexpected");
    if (failure.retryAfter) message += ` ${t("error.retryAfter", { n: failure.retryAfter })}`;
    clear(error).append(h("span", { text: message }), failure.code ? " " : "", failure.code ? h("code", { text: failure.code }) : "");
    error.hidden = false;
    button.disabled = false;
    byId("signin-token").select();
  }
}

async function signOut(reasonKey) {
  // Stop this page's refreshing first: a refresh answered 401 after the sign-out must not
  // replace why the console signed out.
  signedIn = false;
  leavePage();
  try {
    await api("DELETE", "/v1/console/session");
  } catch (error) {
    if (!(error.status === 401)) report(error);
  }
  showSignIn(reasonKey === "signin.idle" ? t("signin.idle") : null);
  if (reasonKey !== "signin.idle") status("signin.signedOut");
}

function checkIdle() {
  // Auto-refresh keeps the server's session warm, so the page itself ends it once the person
  // has been away for the server's idle timeout.
  if (signedIn && Date.now() - lastActivity > session.idleSeconds * 1000) signOut("signin.idle");
}

// ---- start -------------------------------------------------------------------------------------

function start() {
  const select = byId("lang");
  document.documentElement.lang = getLang();
  select.value = getLang();
  relocalize(document);
  select.addEventListener("change", () => setLang(select.value));
  onLangChange(() => {
    select.value = getLang();
    if (signedIn) {
      showWhoami();
      showBadge();
      if (currentPage === "license") {
        const heading = byId("page-title");
        document.title = `${heading ? heading.textContent : t("page.license")} — ${t("app.title")}`;
      } else document.title = pageTitle();
    } else document.title = t("app.title");
  });

  for (const type of ["pointerdown", "keydown", "input", "click", "wheel", "touchstart"]) {
    document.addEventListener(type, () => { lastActivity = Date.now(); }, { capture: true, passive: true });
  }

  byId("signin").addEventListener("submit", signIn);
  byId("signout").addEventListener("click", () => signOut());
  byId("toast-close").addEventListener("click", hideToast);
  byId("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    byId("view").focus();
  });
  wireAmountDialog();
  wireDecisionDialog();
  whenSignedOut((error) => {
    if (signedIn) showSignIn(t("signin.expired"), error.code);
  });
  window.addEventListener("hashchange", () => route(true));

  api("GET", "/v1/console/session")
    .then(enterShell)
    .catch((error) => {
      if (error.status === 401) showSignIn(null);
      else {
        report(error);
        showSignIn(null);
      }
    });
}

start();
