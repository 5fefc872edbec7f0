// The silence form at 3 a.m.: submit from any field with Ctrl+Enter (Cmd+Enter on a Mac).
// The page works without this file; the comment box is focused by its autofocus attribute
// when the matchers came pre-filled.
(function () {
  "use strict";

  function submitOnCtrlEnter(form) {
    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
      if (event.altKey || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    });
    if (/Mac|iPhone|iPad/.test(navigator.platform || "")) {
      const key = form.querySelector(".submit-keys kbd");
      if (key) key.textContent = "⌘";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("silence-form");
    if (form) submitOnCtrlEnter(form);
  });
})();
