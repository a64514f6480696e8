// The road's two busy screens: scanning labels (the camera where the browser reads barcodes,
// typed entry always), and a door (a photo from the camera, a PIN or a signature where the
// door needs one, the position attached by itself). Every call goes through app.api, so what is
// done without signal is kept by the service worker and sent once when the signal returns.
(function () {
  "use strict";
  const app = window.doorstep;

  // ---- Scanning -----------------------------------------------------------------------------
  const scanner = document.getElementById("scanner");
  if (scanner) {
    const url = scanner.dataset.url;
    const results = document.getElementById("results");
    const leftCount = document.getElementById("left-count");
    const input = document.getElementById("code");
    const depart = document.getElementById("depart");
    const busy = new Set();
    let where = null;
    app.here().then(function (p) { where = p; });

    function leftList() { return Array.prototype.slice.call(document.querySelectorAll("#left [data-code]")); }

    function show(code, ok, text) {
      const line = document.createElement("li");
      line.className = "result " + (ok ? "ok" : "bad");
      const strong = document.createElement("strong");
      strong.className = "scanned";
      strong.textContent = code;
      line.appendChild(strong);
      line.appendChild(document.createTextNode(" " + text));
      results.insertBefore(line, results.firstChild);
      while (results.children.length > 6) results.removeChild(results.lastChild);
    }

    function scanned(code) {
      leftList().forEach(function (row) { if (row.dataset.code === code) row.remove(); });
      const left = leftList().length;
      leftCount.textContent = String(left);
      if (depart) depart.disabled = left > 0;
    }

    async function send(raw) {
      const code = raw.trim();
      if (!code || busy.has(code)) return;
      busy.add(code);
      const body = { code: code, at: new Date().toISOString(), client_event_id: app.eventId() };
      if (where) Object.assign(body, where);
      try {
        const result = await app.api("POST", url, body);
        if (result.queued) {
          show(code, true, "kept: sends when the signal returns");
          scanned(code);
        } else if (result.ok) {
          const back = scanner.dataset.back;
          const collect = scanner.dataset.collect;
          show(code, true, result.data.replayed ? "already scanned" : back ? "back at the station" : collect ? "collected" : "scanned");
          if (navigator.vibrate) navigator.vibrate(60);
          scanned(code);
          if (back && result.data.block_status === "completed") {
            sessionStorage.setItem("doorstep-toast", "Block complete. Thank you!");
            setTimeout(function () { window.location.assign(scanner.dataset.blockPage); }, 1200);
          }
        } else {
          show(code, false, app.problem(result));
          if (navigator.vibrate) navigator.vibrate([80, 60, 80]);
        }
      } finally {
        setTimeout(function () { busy.delete(code); }, 2500);  // the camera sees a label many times
      }
    }

    document.getElementById("typed").addEventListener("submit", function (event) {
      event.preventDefault();
      send(input.value);
      input.value = "";
      input.focus();
    });

    // The camera: only where the browser reads barcodes itself (BarcodeDetector).
    const startButton = document.getElementById("camera-start");
    if ("BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      startButton.hidden = false;
      document.getElementById("code-label").textContent = "Or type the label's code";
      startButton.addEventListener("click", async function () {
        const video = document.getElementById("camera");
        let detector;
        try {
          detector = new window.BarcodeDetector({ formats: ["code_128", "code_39", "qr_code", "data_matrix", "ean_13"] });
          video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
        } catch (error) {
          app.toast("The camera is not available: type the codes instead.", "bad");
          return;
        }
        await video.play();
        video.parentElement.hidden = false;
        startButton.hidden = true;
        async function look() {
          if (video.readyState >= 2) {
            try {
              const codes = await detector.detect(video);
              codes.forEach(function (c) { send(c.rawValue); });
            } catch (error) { /* a frame it could not read */ }
          }
          setTimeout(look, 250);
        }
        look();
      });
    }
  }

  // ---- A door -------------------------------------------------------------------------------
  const door = document.getElementById("door");
  if (door) {
    const photo = document.getElementById("photo");
    const preview = document.getElementById("photo-preview");
    const pin = document.getElementById("pin");
    const pad = document.getElementById("signature-pad");
    const deliverButton = document.getElementById("deliver");
    const confirmBox = document.getElementById("confirm-box");
    const gpsState = document.getElementById("gps-state");
    const eventId = app.eventId();  // this door's delivery: the server takes it once
    let where = null;
    let signed = false;
    const fixing = app.here().then(function (p) {
      where = p;
      gpsState.textContent = p ? "Your position is attached (±" + Math.round(p.accuracy_m) + " m)." : "No GPS fix yet: it is tried again when you deliver.";
      return p;
    });
    // Nothing else to give: the photo is all the door needs, so taking it delivers.
    const photoDelivers = door.dataset.photo === "required" && door.dataset.pin === "off" && door.dataset.signature !== "required" && door.dataset.scan !== "required";
    const doorCodes = document.getElementById("door-codes");

    if (photo) {
      photo.addEventListener("change", function () {
        if (!photo.files.length) return;
        preview.src = URL.createObjectURL(photo.files[0]);
        preview.hidden = false;
        if (photoDelivers) deliver({});
        else {
          document.getElementById("photo-label").textContent = "Take it again";
          deliverButton.hidden = false;
        }
      });
    }

    if (pad) {
      const ink = pad.getContext("2d");
      ink.lineWidth = 4;
      ink.lineCap = "round";
      let drawing = false;
      function point(event) {
        const box = pad.getBoundingClientRect();
        return [(event.clientX - box.left) * pad.width / box.width, (event.clientY - box.top) * pad.height / box.height];
      }
      pad.addEventListener("pointerdown", function (event) { drawing = true; signed = true; ink.beginPath(); ink.moveTo.apply(ink, point(event)); pad.setPointerCapture(event.pointerId); });
      pad.addEventListener("pointermove", function (event) { if (drawing) { ink.lineTo.apply(ink, point(event)); ink.stroke(); } });
      pad.addEventListener("pointerup", function () { drawing = false; });
      document.getElementById("signature-clear").addEventListener("click", function () { ink.clearRect(0, 0, pad.width, pad.height); signed = false; });
    }

    function signature() {
      return new Promise(function (resolve) {
        if (!pad || !signed) return resolve(null);
        pad.toBlob(resolve, "image/png");
      });
    }

    async function deliver(extra) {
      deliverButton.disabled = true;
      app.say("door-problem", "");
      confirmBox.hidden = true;
      try {
        if (!where) where = await app.here();
        const form = new FormData();
        form.append("at", new Date().toISOString());
        form.append("client_event_id", eventId);
        if (where) {
          form.append("lat", where.lat);
          form.append("lng", where.lng);
          form.append("accuracy_m", where.accuracy_m);
        }
        if (photo && photo.files.length) form.append("photo", photo.files[0]);
        if (pin && pin.value) form.append("pin", pin.value.trim());
        if (doorCodes) doorCodes.value.split(/[\s,]+/).filter(Boolean).forEach(function (code) { form.append("codes", code); });
        const drawn = await signature();
        if (drawn) form.append("signature", drawn, "signature.png");
        if (extra.confirmFar) form.append("confirm_far", "true");
        (extra.without || []).forEach(function (kind) { form.append("confirm_without", kind); });
        const result = await app.api("POST", door.dataset.url, form);
        if (result.ok) {
          door.dataset.kept = door.dataset.stop;
          door.dataset.ok = door.dataset.after;
          door.dataset.done = "Delivered";
          app.after(door, result);
          return;
        }
        const error = result.data && result.data.error;
        const context = (result.data && result.data.context) || {};
        if (error === "far_from_address") {
          ask("You are " + context.distance_m + " m from the address. Deliver here anyway? It is flagged for the station.", function () {
            deliver(Object.assign({}, extra, { confirmFar: true }));
          });
        } else if (error === "proof_skip_not_confirmed") {
          const kind = context.proof;
          ask("This door asks for a " + kind + ". Deliver without it? It is flagged.", function () {
            deliver(Object.assign({}, extra, { without: (extra.without || []).concat([kind]) }));
          });
        } else {
          app.say("door-problem", app.problem(result));
          if (error === "proof_required" && context.proof === "photo") document.getElementById("photo-label").textContent = "Take a photo";
          deliverButton.hidden = false;
        }
      } finally {
        deliverButton.disabled = false;
      }
    }

    function ask(question, yes) {
      document.getElementById("confirm-text").textContent = question;
      confirmBox.hidden = false;
      const button = document.getElementById("confirm-yes");
      button.onclick = function () { confirmBox.hidden = true; yes(); };
      confirmBox.scrollIntoView({ block: "nearest" });
    }

    door.addEventListener("submit", function (event) {
      event.preventDefault();
      fixing.then(function () { deliver({}); });
    });
  }
})();
