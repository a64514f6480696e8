// The partner store's pages: each action calls the store API (/v1/store/…) with the page
// session's cookie, then the page reloads with the server's view and a message.
(function () {
  "use strict";

  function toast(message, kind) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message;
    box.className = "toast" + (kind ? " " + kind : "");
    box.hidden = false;
    setTimeout(function () { box.hidden = true; }, kind === "bad" ? 7000 : 3500);
  }

  // A message that survives the reload after an action.
  function reloadWith(message) {
    sessionStorage.setItem("doorstep-store-toast", message);
    location.reload();
  }

  async function api(method, url, body) {
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
      return { ok: false, status: 0, data: { detail: "No connection: try again." } };
    }
    const type = response.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await response.json() : null;
    return { ok: response.ok, status: response.status, data: data };
  }

  function problem(result) {
    const detail = result.data && result.data.detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return detail.map(function (d) { return d.message || d.msg; }).join("; ");
    return "Something went wrong (" + result.status + "). Try again.";
  }

  function eventId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "e" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }

  function here() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(
        function (p) { resolve({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy_m: p.coords.accuracy }); },
        function () { resolve(null); },
        { enableHighAccuracy: true, timeout: 12000, maximumAge: 15000 }
      );
    });
  }

  // What a code typed or scanned into a scan box does.
  const SCANS = {
    scan: function (code) {
      return api("POST", "/v1/store/manifest/scans", { code: code }).then(function (r) {
        if (r.ok) return (r.data.replayed ? "Already scanned: " : "Scanned: ") + code.slice(0, 10) + (r.data.on_time ? "" : " (late)") +
          (r.data.for_counter ? " · keep it at the counter: its shopper picks it up" : "");
        throw r;
      });
    },
    unexpected: function (code) {
      return api("POST", "/v1/store/manifest/unexpected", { code: code }).then(function (r) {
        if (r.ok) return "Put aside for the run back to the station";
        throw r;
      });
    },
    barcode: function (code) {
      return api("POST", "/v1/store/counter/hand-over", { barcode: code }).then(function (r) {
        if (r.ok) return "Hand it to " + r.data.recipient;
        throw r;
      });
    },
  };

  function scanBox(form) {
    const input = form.querySelector("input[name=code]");
    const action = SCANS[form.dataset.scan];
    let busy = false;
    async function submit(code) {
      code = code.trim();
      if (!code || busy) return;
      busy = true;
      try {
        reloadWith(await action(code));
      } catch (result) {
        toast(problem(result), "bad");
        input.select();
      } finally {
        busy = false;
      }
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit(input.value);
    });
    const camera = form.querySelector("[data-camera]");
    const video = form.querySelector("[data-video]");
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
    camera.hidden = false;
    camera.addEventListener("click", async function () {
      let stream;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      } catch (error) {
        toast("The camera is not available: type the code.", "bad");
        return;
      }
      const detector = new window.BarcodeDetector();
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      const look = async function () {
        if (video.hidden) return;
        try {
          const found = await detector.detect(video);
          if (found.length) {
            stream.getTracks().forEach(function (t) { t.stop(); });
            video.hidden = true;
            input.value = found[0].rawValue;
            submit(found[0].rawValue);
            return;
          }
        } catch (error) { /* a frame not ready yet */ }
        setTimeout(look, 250);
      };
      look();
    });
  }

  function door(form) {
    const stop = form.dataset.door;
    const eventIds = { deliver: eventId(), attempt: eventId() };
    const photo = form.querySelector("[data-photo]");
    const preview = form.querySelector("[data-preview]");
    photo.addEventListener("change", function () {
      if (!photo.files.length) return;
      preview.src = URL.createObjectURL(photo.files[0]);
      preview.hidden = false;
      form.querySelector("[data-photo-text]").textContent = "Photo taken: tap to retake";
    });
    async function send(action) {
      const buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      const where = await here();
      const data = new FormData();
      data.append("client_event_id", eventIds[action]);
      data.append("at", new Date().toISOString());
      if (where) {
        data.append("lat", where.lat);
        data.append("lng", where.lng);
        if (where.accuracy_m != null) data.append("accuracy_m", where.accuracy_m);
      }
      if (photo.files.length) data.append("photo", photo.files[0]);
      if (action === "attempt") data.append("reason", form.querySelector("select[name=reason]").value);
      let result = await api("POST", "/v1/store/route/stops/" + stop + "/" + action, data);
      if (!result.ok && result.data && result.data.error === "far_from_address" &&
          confirm(problem(result) + "\n\nDeliver here anyway?")) {
        data.append("confirm_far", "true");
        result = await api("POST", "/v1/store/route/stops/" + stop + "/" + action, data);
      }
      buttons.forEach(function (b) { b.disabled = false; });
      if (result.ok) reloadWith(action === "deliver" ? "Delivered" : "Kept at the counter: the shopper gets the code");
      else toast(problem(result), "bad");
    }
    form.addEventListener("submit", function (event) { event.preventDefault(); send("deliver"); });
    form.querySelector("[data-attempt]").addEventListener("click", function () { send("attempt"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const kept = sessionStorage.getItem("doorstep-store-toast");
    if (kept) {
      sessionStorage.removeItem("doorstep-store-toast");
      toast(kept, "ok");
    }
    document.querySelectorAll("form[data-scan]").forEach(scanBox);
    document.querySelectorAll("form[data-door]").forEach(door);
    document.querySelectorAll("[data-report]").forEach(function (button) {
      button.addEventListener("click", async function () {
        const kind = button.dataset.report;
        const result = await api("POST", "/v1/store/manifest/" + kind, { codes: [button.dataset.code] });
        if (result.ok) reloadWith(kind === "missing" ? "Reported missing: the operator is told" : "Refused: it rides back with the run");
        else toast(problem(result), "bad");
      });
    });
    const setOff = document.querySelector("[data-start-route]");
    if (setOff) {
      setOff.addEventListener("click", async function () {
        setOff.disabled = true;
        const result = await api("POST", "/v1/store/route/start");
        setOff.disabled = false;
        if (result.ok) reloadWith("On the way: the shoppers have their times");
        else toast(problem(result), "bad");
      });
    }
    const handover = document.querySelector("form[data-handover]");
    if (handover) {
      handover.addEventListener("submit", async function (event) {
        event.preventDefault();
        const body = { package: handover.elements["package"].value, pickup_code: handover.elements["pickup_code"].value.trim() };
        const result = await api("POST", "/v1/store/counter/hand-over", body);
        if (result.ok) reloadWith("Hand it to " + result.data.recipient);
        else {
          toast(problem(result), "bad");
          handover.elements["pickup_code"].select();
        }
      });
    }
    const locate = document.querySelector("[data-locate]");
    if (locate) {
      locate.addEventListener("click", async function () {
        const where = await here();
        if (!where) return toast("No GPS position: allow location and try again.", "bad");
        const result = await api("POST", "/v1/store/location", where);
        if (result.ok) reloadWith("Location checked");
        else toast(problem(result), "bad");
      });
    }
    const profile = document.querySelector("form[data-profile]");
    if (profile) {
      profile.addEventListener("submit", async function (event) {
        event.preventDefault();
        const f = profile.elements;
        const body = {
          opening_hours: f["opening_hours"].value,
          closed_days: f["closed_days"].value.split(",").map(function (d) { return d.trim(); }).filter(Boolean),
          daily_capacity: parseInt(f["daily_capacity"].value, 10),
          service_radius_m: Math.round(parseFloat(f["radius_mi"].value) * 1609.344),
          accept_pay: f["accept_pay"].checked,
        };
        const result = await api("PUT", "/v1/store/profile", body);
        if (result.ok) {
          sessionStorage.setItem("doorstep-store-toast", "Saved: welcome aboard");
          location.href = "/store/";
        } else toast(problem(result), "bad");
      });
    }
  });
})();
