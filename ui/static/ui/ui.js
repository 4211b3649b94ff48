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

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
