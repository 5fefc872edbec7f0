// alertui: the alerts page's row actions and keyboard. The page works without this file
// (a row's Extend then needs the silence's own page, whose form carries its CSRF token).
(function () {
  "use strict";

  // Where a silence page should send the person back to: this page, with its filter.
  function here() { return window.location.pathname + window.location.search; }

  // The rows are rendered once for every viewer (cached HTML), so they carry no CSRF token
  // and no `next`: both are added when a row's action is used.
  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) { return ""; }
  }

  document.addEventListener("click", function (event) {
    const link = event.target.closest && event.target.closest("a[data-next-link]");
    if (!link) return;
    const url = new URL(link.getAttribute("href"), window.location.href);
    url.searchParams.set("next", here());
    link.setAttribute("href", url.pathname + url.search);
  }, true);

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.matches || !form.matches("form[data-row-action]")) return;
    let token = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (!token) {
      token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrfmiddlewaretoken";
      form.appendChild(token);
    }
    token.value = csrfToken();
    form.querySelectorAll("input[data-here]").forEach(function (input) { input.value = here(); });
    const tz = form.querySelector("input[name=tz]");
    if (tz) tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone;
  }, true);
})();

// A label chip adds itself to the filter (its link, without this script, filters by it alone).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const chip = event.target.closest && event.target.closest("a.chip[data-filter]");
    const box = document.getElementById("q");
    if (!chip || !box || !box.form || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    const wanted = chip.dataset.filter;
    const current = box.value.trim();
    if (current.indexOf(wanted) === -1) box.value = current ? current + " " + wanted : wanted;
    box.form.requestSubmit();
  });
})();

// Keys on the alerts page: j/k between alerts, s to silence the focused one, ? for help.
(function () {
  "use strict";

  function typing(target) {
    return target.closest && target.closest("input, textarea, select, [contenteditable]");
  }

  function summaries() {
    return Array.from(document.querySelectorAll("#results details.alert > summary"));
  }

  function currentRow() {
    const active = document.activeElement;
    return active && active.closest ? active.closest("#results .alert-row") : null;
  }

  function move(step) {
    const all = summaries();
    if (!all.length) return;
    const row = currentRow();
    const at = row ? all.indexOf(row.querySelector("details.alert > summary")) : -1;
    const next = at === -1 ? (step > 0 ? 0 : all.length - 1)
      : Math.min(all.length - 1, Math.max(0, at + step));
    all[next].focus();
    all[next].scrollIntoView({ block: "nearest" });
  }

  function silence() {
    const row = currentRow();
    const link = row && row.querySelector("a.silence-link");
    if (!link) return;
    const url = new URL(link.getAttribute("href"), window.location.href);
    url.searchParams.set("next", window.location.pathname + window.location.search);
    window.location.assign(url.pathname + url.search);
  }

  function help() {
    const dialog = document.getElementById("keys-help");
    if (dialog && !dialog.open) dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (!document.getElementById("results")) return;  // not the alerts page
    if (event.key === "Escape" && event.target.id === "q") {
      // Leave the filter box with what is typed (a search box would clear it on Esc).
      event.preventDefault();
      event.target.blur();
      return;
    }
    if (typing(event.target) || document.querySelector("dialog[open]")) return;
    const actions = { j: function () { move(1); }, k: function () { move(-1); }, s: silence, "?": help };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  document.addEventListener("DOMContentLoaded", function () {
    const button = document.getElementById("keys-button");
    if (!button || !document.getElementById("results")) return;
    button.hidden = false;  // the keys need this script: offered only with it
    button.addEventListener("click", help);
  });
})();
