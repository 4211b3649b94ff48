// Small helpers: cancellation-region toggles on diagrams, hover highlight, confirmation of dangerous forms.
(function () {
  "use strict";

  function region(diagramId, taskId) {
    var svg = document.getElementById(diagramId);
    if (!svg) return null;
    var regions = svg.querySelectorAll(".cancel-region");
    for (var i = 0; i < regions.length; i++) {
      if (regions[i].getAttribute("data-task") === taskId) return regions[i];
    }
    return null;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.toggle[data-diagram]");
    if (!button) return;
    var target = region(button.getAttribute("data-diagram"), button.getAttribute("data-task"));
    if (!target) return;
    var shown = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", shown ? "true" : "false");
    target.classList.toggle("shown", shown);
  });

  // "Fit to width" scales a wide diagram down to its panel instead of scrolling it.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.fit-toggle");
    if (!button) return;
    var box = document.getElementById(button.getAttribute("aria-controls"));
    var fit = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", fit ? "true" : "false");
    if (box) box.classList.toggle("fit", fit);
  });

  // Hovering a cancelling task shows its region while the pointer is there (unless toggled on).
  function hover(event, on) {
    var task = event.target.closest && event.target.closest("g.task.cancelling");
    if (!task) return;
    var target = document.getElementById(task.getAttribute("data-cancels"));
    if (target) target.classList.toggle("hover", on);
  }
  document.addEventListener("mouseover", function (event) { hover(event, true); });
  document.addEventListener("mouseout", function (event) { hover(event, false); });

  // A running case's page refreshes its diagram, items, data and history in place, unless the user
  // is working inside that part (focus, a toggled region) or switched updates off.
  function refreshCase() {
    var live = document.getElementById("case-live");
    var enabled = document.getElementById("live-updates");
    if (!live || !live.hasAttribute("data-refresh")) return;
    var busy = live.contains(document.activeElement) || live.querySelector('[aria-pressed="true"]');
    if (document.hidden || busy || (enabled && !enabled.checked)) return;
    fetch(window.location.href, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var replacement = fresh.getElementById("case-live");
        var state = fresh.getElementById("case-state");
        if (replacement) live.innerHTML = replacement.innerHTML;
        if (state && document.getElementById("case-state")) {
          document.getElementById("case-state").outerHTML = state.outerHTML;
        }
        if (replacement && !replacement.hasAttribute("data-refresh")) live.removeAttribute("data-refresh");
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("case-live");
    if (live && live.hasAttribute("data-refresh")) {
      window.setInterval(refreshCase, parseInt(live.getAttribute("data-refresh"), 10) || 5000);
    }
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
