// "Select every silence on this page" for the silence list's bulk actions. The boxes and the
// bulk form work without it; the box that ticks them all is shown only when this runs.
(function () {
  "use strict";
  function reveal(root) {
    root.querySelectorAll("input[data-select-all]").forEach(function (box) { box.hidden = false; });
  }
  document.addEventListener("change", function (event) {
    const all = event.target.closest && event.target.closest("input[data-select-all]");
    if (!all || !all.form) return;
    all.form.querySelectorAll("input[name=silence]").forEach(function (box) {
      box.checked = all.checked;
    });
  });
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:afterSwap", function (event) { reveal(event.target); });
})();
