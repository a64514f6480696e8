// The driver app's small runtime: calls to the driver API, the phone's position, messages,
// and the service worker that keeps what was done in a dead spot until the signal returns.
(function () {
  "use strict";
  const app = (window.doorstep = window.doorstep || {});

  // A fresh id for each action the driver takes: the server accepts it once, however often
  // the phone sends it again.
  app.eventId = function () {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "e" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  };

  // One call to the driver API with the page session's cookie. A cookie is sent by any form
  // on any site, so unsafe calls also carry a header no cross-site form can set.
  app.api = async function (method, url, body) {
    const init = { method: method, credentials: "same-origin", headers: { "X-Doorstep-Csrf": "1" } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      return { ok: false, status: 0, data: { error: "offline", detail: "No signal, and it could not be kept for later." } };
    }
    let data = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("json")) data = await response.json();
    const queued = response.status === 202 && data && data.queued === true;
    if (queued) app.showQueue();
    return { ok: response.ok, status: response.status, data: data, queued: queued };
  };

  // Where the phone is: the latest fix of the watch a work screen keeps (it follows the driver
  // as they walk to the door), else a fresh one; null after 12 s without (a garage, location
  // turned off).
  let watched = null;
  function fix(p) { return { lat: p.coords.latitude, lng: p.coords.longitude, accuracy_m: p.coords.accuracy }; }
  app.watch = function () {
    if (!navigator.geolocation || app.watching) return;
    app.watching = navigator.geolocation.watchPosition(
      function (p) { watched = { at: Date.now(), where: fix(p) }; },
      function () {},
      { enableHighAccuracy: true, maximumAge: 5000 }
    );
  };
  app.here = function () {
    if (watched && Date.now() - watched.at < 20000) return Promise.resolve(watched.where);
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(
        function (p) { resolve(fix(p)); },
        function () { resolve(null); },
        { enableHighAccuracy: true, timeout: 12000, maximumAge: 5000 }
      );
    });
  };

  let toastTimer = null;
  app.toast = function (message, kind) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message;
    box.className = "toast" + (kind ? " " + kind : "");
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, kind === "bad" ? 7000 : 3500);
  };

  // An API error in the driver's words: the server's detail says what was wrong and where.
  app.problem = function (result) {
    if (result.data && result.data.detail) {
      const detail = result.data.detail;
      const text = typeof detail === "string" ? detail : detail.map(function (d) { return d.msg; }).join("; ");
      return text.charAt(0).toUpperCase() + text.slice(1);
    }
    return "Something went wrong (" + result.status + "). Try again.";
  };

  // Say a refusal where the driver looks: next to the button (data-say names the element),
  // else in the toast.
  app.say = function (id, message) {
    const box = id && document.getElementById(id);
    if (!box) return app.toast(message, "bad");
    box.textContent = message;
    box.hidden = !message;
    if (message) box.scrollIntoView({ block: "nearest" });
  };

  // What a tap does after the API answered: go on (data-ok: a page, or "reload"), say it.
  app.after = function (element, result) {
    if (result.queued) {
      sessionStorage.setItem("doorstep-toast", "No signal: kept on the phone, it goes when the signal returns.");
      if (element.dataset.kept) app.keep(element.dataset.kept);
    } else if (element.dataset.done) {
      sessionStorage.setItem("doorstep-toast", element.dataset.done);
    }
    const next = element.dataset.ok;
    if (!next) return;
    if (next === "reload") window.location.reload();
    else window.location.assign(next);
  };

  // Stops done without signal, marked on the stop list until the page shows them done.
  app.keep = function (stopId) {
    const kept = JSON.parse(localStorage.getItem("doorstep-kept") || "[]");
    if (kept.indexOf(String(stopId)) < 0) kept.push(String(stopId));
    localStorage.setItem("doorstep-kept", JSON.stringify(kept));
  };

  // A button that calls the API: data-act="POST /v1/driver/…", a JSON body (data-body) or a
  // form (data-form), the phone's position (data-here), the moment (data-at) and an id the
  // server accepts once (data-event: one per button and page, so a second tap is the same).
  async function act(button) {
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    const parts = button.dataset.act.split(" ");
    const fields = JSON.parse(button.dataset.body || button.dataset.form || "{}");
    button.disabled = true;
    try {
      if (button.hasAttribute("data-at")) fields.at = new Date().toISOString();
      if (button.hasAttribute("data-event")) {
        button.dataset.eventId = button.dataset.eventId || app.eventId();
        fields.client_event_id = button.dataset.eventId;
      }
      if (button.hasAttribute("data-here")) {
        const where = await app.here();
        if (where) Object.assign(fields, where);
      }
      let body = fields;
      if (button.dataset.form !== undefined) {
        body = new FormData();
        Object.keys(fields).forEach(function (k) { if (fields[k] !== null && fields[k] !== undefined) body.append(k, fields[k]); });
      } else if (!button.dataset.body && !Object.keys(fields).length) body = undefined;
      const result = await app.api(parts[0], parts[1], body);
      if (result.ok) {
        app.say(button.dataset.say, "");
        app.after(button, result);
      } else {
        app.say(button.dataset.say, app.problem(result));
      }
    } finally {
      button.disabled = false;
    }
  }
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-act]");
    if (!button || button.disabled) return;
    event.preventDefault();
    act(button);
  });

  // The forms of the hours and the car: each is one API call with a JSON body.
  const forms = {
    weekly: function (form) {
      const stretches = [];
      form.querySelectorAll("[data-weekday]").forEach(function (row) {
        if (!row.querySelector("[name=on]").checked) return;
        const end = row.querySelector("[name=end]").value;
        stretches.push({ weekday: Number(row.dataset.weekday), start: row.querySelector("[name=start]").value, end: end === "24:00" ? "00:00" : end });
      });
      return ["PUT", "/v1/driver/availability/weekly", { stretches: stretches }, "Your week is saved"];
    },
    exception: function (form) {
      const kind = form.kind.value;
      const body = { day: form.day.value, available: kind === "extra", excused: form.excused.checked };
      if (kind !== "off") { body.start = form.start.value || null; body.end = form.end.value || null; }
      if (form.reason.value.trim()) body.reason = form.reason.value.trim();
      return ["POST", "/v1/driver/availability/exceptions", body, "Added"];
    },
    car: function (form) {
      const vehicle = { description: form.description.value.trim(), plate: form.plate.value.trim() || null, cargo_litres: Number(form.cargo_litres.value) || null, payload_kg: Number(form.payload_kg.value) || 300 };
      return ["PATCH", "/v1/driver/me", { vehicle: vehicle }, "Your car is saved"];
    }
  };
  document.addEventListener("submit", async function (event) {
    const form = event.target;
    if (!forms[form.id]) return;
    event.preventDefault();
    const call = forms[form.id](form);
    const result = await app.api(call[0], call[1], call[2]);
    if (result.ok) {
      sessionStorage.setItem("doorstep-toast", call[3]);
      window.location.reload();
    } else app.say(form.id + "-problem", app.problem(result));
  });

  // Where the app is, every 30 s while a page is open, once the driver let it know: instant
  // offers go to drivers nearby. Never queued (sw.js leaves /position alone).
  function reportPosition() {
    if (document.hidden || !navigator.onLine || !navigator.permissions) return;
    navigator.permissions.query({ name: "geolocation" }).then(function (state) {
      if (state.state !== "granted") return;
      app.here().then(function (where) { if (where) app.api("POST", "/v1/driver/position", where); });
    }).catch(function () {});
  }

  function showNetwork() {
    const badge = document.getElementById("net");
    if (!badge) return;
    const online = navigator.onLine;
    badge.dataset.state = online ? "online" : "offline";
    badge.textContent = online ? (app.queued ? app.queued + " to send" : "online") : "no signal" + (app.queued ? " · " + app.queued + " kept" : "");
  }
  app.queued = 0;
  app.showQueue = function () {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "count" });
    }
    showNetwork();
  };

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/driver/sw.js", { scope: "/driver/" });
    navigator.serviceWorker.addEventListener("message", function (event) {
      const message = event.data || {};
      if (message.type === "queue") {
        app.queued = message.count;
        showNetwork();
      } else if (message.type === "sent") {
        app.toast(message.count + " kept action" + (message.count === 1 ? "" : "s") + " sent", "ok");
      } else if (message.type === "refused") {
        app.toast("Not accepted after the signal came back: " + message.detail, "bad");
      }
    });
    window.addEventListener("online", function () {
      if (navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ type: "replay" });
      showNetwork();
    });
  }
  window.addEventListener("offline", showNetwork);
  document.addEventListener("DOMContentLoaded", function () {
    showNetwork();
    app.showQueue();
    const said = sessionStorage.getItem("doorstep-toast");
    if (said) {
      sessionStorage.removeItem("doorstep-toast");
      app.toast(said, "ok");
    }
    const kept = JSON.parse(localStorage.getItem("doorstep-kept") || "[]");
    const left = kept.filter(function (id) {
      const row = document.querySelector('[data-stop="' + id + '"]');
      if (!row) return true;
      if (row.classList.contains("done")) return false;  // the server has it now
      const badge = row.querySelector(".kept");
      if (badge) badge.hidden = false;
      row.classList.add("done");
      return true;
    });
    localStorage.setItem("doorstep-kept", JSON.stringify(left));
    if (document.querySelector("[data-here], #door, #scanner")) app.watch();
    // The stop list: fetch each door's page once, so the service worker has it for a dead spot.
    if (navigator.onLine && navigator.serviceWorker && navigator.serviceWorker.controller) {
      const doors = Array.prototype.map.call(document.querySelectorAll(".stop:not(.done) .stop-link"), function (a) { return a.href; });
      doors.reduce(function (chain, href) {
        return chain.then(function () { return fetch(href, { credentials: "same-origin" }).catch(function () {}); });
      }, Promise.resolve());
    }
    if (document.getElementById("net")) {
      reportPosition();
      setInterval(reportPosition, 30000);
    }
  });
})();
