// The console's planning form: while the server plans (up to the time asked), say so and
// count the seconds, and keep the button from sending the wave twice.
"use strict";
(function () {
  const form = document.getElementById("plan-form");
  const button = document.getElementById("plan-submit");
  const progress = document.getElementById("plan-progress");
  if (!form || !button || !progress) return;
  form.addEventListener("submit", function () {
    const limit = Number(document.getElementById("time_limit_s").value) || 20;
    const station = document.getElementById("station").value;
    const started = Date.now();
    button.disabled = true;
    button.textContent = "Planning…";
    progress.hidden = false;
    function tick() {
      const seconds = Math.round((Date.now() - started) / 1000);
      progress.textContent = "Planning " + station + ": " + seconds + " s of up to " + limit +
        " s searching, then the plan is stored and its blocks go on offer.";
    }
    tick();
    setInterval(tick, 1000);
  });
})();
