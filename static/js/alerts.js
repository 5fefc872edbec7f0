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
