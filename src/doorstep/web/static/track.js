// The tracking page, live: the server pushes the page's state (server-sent events) after each
// change on the parcel's route; without them (an old browser, a proxy that cuts streams) the
// page reloads itself every minute.
(function () {
  "use strict";
  var root = document.getElementById("track");
  if (!root) return;
  var base = location.pathname.replace(/\/+$/, "");
  var RELOAD_MS = 60000;

  function fallback() {
    setTimeout(function () { location.reload(); }, RELOAD_MS);
  }
  if (!window.EventSource) { fallback(); return; }

  function q(sel) { return root.querySelector(sel); }
  function text(sel, value) {
    var el = q(sel);
    if (!el) return;
    el.textContent = value || "";
    el.hidden = !value;
  }
  function timeline(steps) {
    var list = q("[data-timeline]");
    if (!list) return;
    list.textContent = "";
    steps.forEach(function (step) {
      var li = document.createElement("li");
      li.className = step.done ? "step-done" : "step-todo";
      var dot = document.createElement("span");
      dot.className = "dot";
      dot.setAttribute("aria-hidden", "true");
      var body = document.createElement("div");
      var label = document.createElement("strong");
      label.textContent = step.label;
      body.appendChild(label);
      if (step.at_text) {
        var at = document.createElement("span");
        at.className = "muted small";
        at.textContent = " " + step.at_text;
        body.appendChild(at);
      }
      if (step.detail) {
        body.appendChild(document.createElement("br"));
        var detail = document.createElement("span");
        detail.className = "small";
        detail.textContent = step.detail;
        body.appendChild(detail);
      }
      li.appendChild(dot);
      li.appendChild(body);
      list.appendChild(li);
    });
  }
  function show(view) {
    text("[data-headline]", view.headline);
    text("[data-subline]", view.subline);
    var eta = q("[data-eta]");
    if (eta) {
      eta.hidden = !view.eta;
      if (view.eta) {
        q("[data-eta-window]").textContent = view.eta.window_text;
        q("[data-eta-summary]").textContent = view.eta.summary;
      }
    }
    timeline(view.timeline);
    document.title = view.headline + " \u00b7 " + view.merchant;
    // What changes the page's parts (a photo, the forms): draw it again from the server.
    var parts = [view.has_photo ? "yes" : "no", view.instructions_editable ? "yes" : "no",
                 view.return_offer ? "yes" : "no", view.counter && view.counter.code ? "yes" : "no"];
    var shown = [root.dataset.photo, root.dataset.editable, root.dataset.offer,
                 root.dataset.code];
    if (parts.join() !== shown.join()) { location.reload(); return; }
    root.dataset.state = view.state;
  }

  var failures = 0;
  var source = new EventSource(base + "/events");
  source.addEventListener("view", function (event) {
    failures = 0;
    var live = q("[data-live]");
    if (live) live.hidden = false;
    show(JSON.parse(event.data));
  });
  source.onerror = function () {
    failures += 1;
    if (failures >= 3) { source.close(); fallback(); }
  };
})();
