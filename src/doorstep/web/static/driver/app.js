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

  // Where the phone is, or null after 12 s (a garage, a basement, location turned off).
  app.here = function () {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(
        function (p) { resolve({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy_m: p.coords.accuracy }); },
        function () { resolve(null); },
        { enableHighAccuracy: true, timeout: 12000, maximumAge: 15000 }
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
      return typeof detail === "string" ? detail : detail.map(function (d) { return d.msg; }).join("; ");
    }
    return "Something went wrong (" + result.status + "). Try again.";
  };

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
  });
})();
