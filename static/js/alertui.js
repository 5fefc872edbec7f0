// alertui: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Times are rendered in UTC by the server; show them in the viewer's zone.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const format = new Intl.DateTimeFormat("en-GB", {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZoneName: "short", timeZone: zone,
  });

  function formatTime(when) {
    // 2026-11-26 17:50:03 CET: sortable and unambiguous, whatever the browser's locale.
    const p = {};
    format.formatToParts(when).forEach(function (part) { p[part.type] = part.value; });
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second + " " + p.timeZoneName;
  }

  // "1d 4h" like the server's durations.format_duration: the two largest units.
  function shortDuration(seconds) {
    const units = [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]];
    const parts = [];
    seconds = Math.max(0, Math.floor(seconds));
    units.forEach(function (u) {
      const n = Math.floor(seconds / u[1]);
      if (n && parts.length < 2) { parts.push(n + u[0]); }
      if (n) seconds -= n * u[1];
    });
    return parts.length ? parts.join(" ") : "0s";
  }

  function updateSince(root) {
    const now = Date.now();
    root.querySelectorAll("time[data-since]").forEach(function (el) {
      const when = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(when)) el.textContent = shortDuration((now - when) / 1000);
    });
    root.querySelectorAll("time[data-until]").forEach(function (el) {
      const when = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(when)) el.textContent = shortDuration((when - now) / 1000);
    });
    // "5m ago": the server writes the absolute time (its rows are cached), the browser the age.
    root.querySelectorAll("time[data-ago]").forEach(function (el) {
      const when = Date.parse(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      if (!el.title) el.title = el.textContent.trim();
      el.textContent = shortDuration((now - when) / 1000) + " ago";
    });
  }

  // "16:05:58" today, "2026-11-29 16:05" another day: the start next to "for 42s".
  function compactTime(when) {
    const full = formatTime(when), today = formatTime(new Date());
    return full.slice(0, 10) === today.slice(0, 10) ? full.slice(11, 19) : full.slice(0, 16);
  }

  function localizeTimes(root) {
    updateSince(root);
    root.querySelectorAll("time[data-compact]").forEach(function (el) {
      const when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      el.title = formatTime(when);
      el.textContent = compactTime(when);
    });
    root.querySelectorAll("time[datetime]:not([data-relative]):not([data-since]):not([data-until]):not([data-ago]):not([data-compact])").forEach(function (el) {
      const when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      if (!el.title) el.title = el.textContent.trim();
      el.textContent = formatTime(when);
    });
  }

  function setupSilenceForm(form) {
    const tz = form.querySelector("input[name=tz]");
    if (tz && !tz.value) tz.value = zone;
    const rows = form.querySelector("#matcher-rows");
    const template = document.getElementById("matcher-row-template");
    function changed() { rows.dispatchEvent(new Event("rows-changed", { bubbles: true })); }
    form.querySelector(".add-row").addEventListener("click", function () {
      rows.appendChild(template.content.cloneNode(true));
      rows.lastElementChild.querySelector("input").focus();
    });
    rows.addEventListener("click", function (event) {
      const button = event.target.closest(".remove-row");
      if (!button) return;
      const row = button.closest(".matcher-row");
      if (rows.querySelectorAll(".matcher-row").length > 1) {
        row.remove();
      } else {
        row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      }
      changed();
    });
    form.querySelectorAll(".preset").forEach(function (button) {
      button.addEventListener("click", function () {
        form.querySelector("input[name=duration]").value = button.dataset.duration;
        const end = form.querySelector("input[name=ends_at]");
        if (end) end.value = "";
      });
    });
  }

  // "2026-11-26T17:50" for <input type=datetime-local>: `when` as a wall time in the viewer's zone.
  function localInputValue(when) {
    const p = {};
    format.formatToParts(when).forEach(function (part) { p[part.type] = part.value; });
    return p.year + "-" + p.month + "-" + p.day + "T" + p.hour + ":" + p.minute;
  }

  // The audit filter reads From/Until in the zone its hidden `tz` names (UTC without this
  // script): make that the viewer's zone, the one the table's times are shown in, and show
  // a range a link sent in another zone as the same instants in this one.
  function setupTimeFilter(form) {
    const tz = form.querySelector("input[name=tz][data-viewer-zone]");
    const since = form.querySelector("input[name=since]");
    const until = form.querySelector("input[name=until]");
    if (tz.value !== zone) {
      [since, until].forEach(function (input) {
        const when = new Date(input.dataset.utc || "");
        if (!isNaN(when)) input.value = localInputValue(when);
      });
      tz.value = zone;
    }
    form.querySelectorAll(".zone-name").forEach(function (el) { el.textContent = "(" + zone + ")"; });
    form.querySelectorAll(".time-presets a[data-hours]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        const hours = parseInt(link.dataset.hours, 10);
        since.value = localInputValue(new Date(Date.now() - hours * 3600 * 1000));
        until.value = "";
        form.requestSubmit();
      });
    });
  }

  // Auto-refresh of a results area (data-poll seconds): only while the tab is visible and not
  // paused by the user (WCAG 2.2.2: moving content can be paused), keeping the open
  // <details>, the scroll position and the filter (taken from the URL).
  const PAUSE_KEY = "alertui-refresh-paused";
  function setupPolling(results) {
    const seconds = Math.max(2, parseInt(results.dataset.poll, 10) || 10);
    let timer = null;
    let paused = window.sessionStorage && sessionStorage.getItem(PAUSE_KEY) === "1";
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.id = "refresh-toggle";
    toggle.className = "link refresh-toggle";
    const status = document.createElement("span");
    status.className = "muted refresh-status";
    status.setAttribute("aria-live", "polite");
    const bar = document.createElement("p");
    bar.className = "refresh";
    bar.append(status, " ", toggle);
    results.before(bar);
    function show() {
      toggle.textContent = paused ? "Resume auto-refresh" : "Pause auto-refresh";
      toggle.setAttribute("aria-pressed", paused ? "true" : "false");
      status.textContent = paused ? "Auto-refresh paused." : "Refreshes every " + seconds + " s.";
    }
    function refresh() {
      if (document.hidden || paused || !window.htmx) return;
      htmx.ajax("GET", window.location.pathname + window.location.search,
        { target: "#results", swap: "outerHTML" });
    }
    function schedule() {
      clearInterval(timer);
      timer = document.hidden || paused ? null : setInterval(refresh, seconds * 1000);
    }
    toggle.addEventListener("click", function () {
      paused = !paused;
      if (window.sessionStorage) sessionStorage.setItem(PAUSE_KEY, paused ? "1" : "0");
      show();
      if (!paused) refresh();  // resuming shows the current state at once
      schedule();
    });
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) refresh();  // catch up at once when the tab comes back
      schedule();
    });
    show();
    schedule();
  }

  // What a refresh must not take from the user: open details and the keyboard focus.
  let openKeys = [];
  let focused = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "results") return;
    openKeys = Array.from(document.querySelectorAll("#results details[open][data-key]"))
      .map(function (el) { return el.dataset.key; });
    focused = null;
    const active = document.activeElement;
    if (active && active.closest && active.closest("#results")) {
      const row = active.closest("[data-row]");
      focused = {
        key: row ? row.dataset.row : null,
        tag: active.tagName,
        href: active.getAttribute("href"),
        text: active.textContent,
      };
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    openKeys.forEach(function (key) {
      const el = document.querySelector('#results details[data-key="' + CSS.escape(key) + '"]');
      if (el) el.open = true;
    });
    openKeys = [];
    if (!focused) return;
    const scope = focused.key
      ? document.querySelector('#results [data-row="' + CSS.escape(focused.key) + '"]')
      : document.getElementById("results");
    if (scope) {
      const match = Array.from(scope.querySelectorAll(focused.tag)).find(function (el) {
        return focused.href ? el.getAttribute("href") === focused.href : el.textContent === focused.text;
      });
      if (match) match.focus({ preventScroll: true });
    }
    focused = null;
  });

  // "/" jumps to the filter box, as in most dashboards.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    const box = document.getElementById("q");
    if (box) { event.preventDefault(); box.focus(); box.select(); }
  });

  setInterval(function () { if (!document.hidden) updateSince(document); }, 15000);

  document.addEventListener("DOMContentLoaded", function () {
    const results = document.querySelector("#results[data-poll]");
    if (results) setupPolling(results);
    localizeTimes(document);
    const form = document.getElementById("silence-form");
    if (form) setupSilenceForm(form);
    const timeZoneInput = document.querySelector("input[name=tz][data-viewer-zone]");
    if (timeZoneInput && timeZoneInput.form) setupTimeFilter(timeZoneInput.form);
    document.querySelectorAll("input[name=tz]").forEach(function (input) {
      if (!input.value) input.value = zone;
    });
  });
  document.addEventListener("htmx:afterSwap", function (event) { localizeTimes(event.target); });
})();
