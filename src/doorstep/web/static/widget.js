/*! doorstep checkout button. One script tag on a product page:
 *
 *   <script src="https://DOORSTEP_HOST/widget.js" data-key="pk_..." data-sku="PAN-28"
 *           data-quantity="1" data-color="#0f766e" data-label="Get it fast"></script>
 *
 * Shows the live delivery promise for the shopper's ZIP code or location (and, where a partner
 * store nearby keeps parcels at its counter, the pick-up options to choose from) and opens the
 * hosted checkout with the shopper's choice. It talks only to the server it was loaded from; no other requests, no cookies.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.getAttribute("data-key")) {
    var candidates = document.querySelectorAll("script[data-key][src*='widget.js']:not([data-doorstep])");
    script = candidates.length ? candidates[0] : null;
  }
  if (!script || script.getAttribute("data-doorstep")) return;
  script.setAttribute("data-doorstep", "mounted");

  var attr = function (name, fallback) {
    var value = script.getAttribute("data-" + name);
    return value === null || value === "" ? fallback : value;
  };
  var api = attr("api", new URL(script.src, window.location.href).origin).replace(/\/+$/, "");
  var key = attr("key", "");
  var sku = attr("sku", "");
  var quantity = Math.max(1, parseInt(attr("quantity", "1"), 10) || 1);
  var color = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(attr("color", "")) ? attr("color") : "#0f766e";
  var label = attr("label", "Get it fast").slice(0, 60);
  var openIn = attr("open", "same"); // "same" page or "new" tab
  var STORE = "doorstep.zip";

  function luminance(hex) {
    if (hex.length === 4) hex = "#" + hex[1] + hex[1] + hex[2] + hex[2] + hex[3] + hex[3];
    var rgb = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  }
  var lum = luminance(color);
  var onColor = 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.05 ? "#ffffff" : "#111827";

  // The widget lives in a shadow root: the shop's CSS can't break it, ours can't leak out.
  var host = document.createElement("div");
  host.className = "doorstep-widget";
  var target = attr("target", "") && document.querySelector(attr("target", ""));
  if (target) target.appendChild(host);
  else script.parentNode.insertBefore(host, script.nextSibling);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var uid = "ds" + Math.random().toString(36).slice(2, 8);

  root.innerHTML =
    "<style>" +
    ":host{all:initial;display:block;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#111827;line-height:1.4;max-width:26rem}" +
    ".box{border:1px solid #d1d5db;border-radius:12px;padding:14px;background:#fff}" +
    ".promise{margin:0 0 10px;font-size:15px;min-height:1.4em}" +
    ".promise strong{font-size:17px}" +
    ".promise.bad{color:#b91c1c}" +
    "form{margin:0 0 10px}" +
    "label{display:block;font-size:13px;font-weight:600;margin:0 0 4px}" +
    ".row{display:flex;gap:6px}" +
    "input{flex:1;min-width:0;font:inherit;font-size:16px;padding:8px 10px;border:1px solid #9ca3af;border-radius:8px}" +
    "button{font:inherit;cursor:pointer;border-radius:8px;min-height:40px}" +
    ".check{padding:0 14px;background:#fff;border:1px solid #9ca3af;color:#111827;font-weight:600}" +
    ".geo{margin-top:6px;background:none;border:0;padding:0;min-height:0;color:#1d4ed8;text-decoration:underline;font-size:14px}" +
    ".buy{width:100%;min-height:48px;border:0;background:var(--c);color:var(--on);font-size:17px;font-weight:700;padding:10px 16px}" +
    ".buy[aria-disabled=true]{opacity:.55;cursor:not-allowed}" +
    ".small{margin:8px 0 0;font-size:12px;color:#4b5563}" +
    ".choices{border:0;margin:0 0 10px;padding:0}" +
    ".choices legend{font-size:13px;font-weight:600;margin:0 0 4px;padding:0}" +
    ".choice{display:flex;gap:8px;align-items:flex-start;padding:8px;border:1px solid #d1d5db;border-radius:8px;margin:0 0 6px;cursor:pointer;font-size:14px}" +
    ".choice:has(input:checked){border-color:var(--c);box-shadow:inset 0 0 0 1px var(--c)}" +
    ".choice input{flex:none;width:auto;margin:3px 0 0;padding:0;accent-color:var(--c)}" +
    ".choice span{flex:1}.choice small{display:block;color:#4b5563;font-size:12px}" +
    ":focus-visible{outline:3px solid #2563eb;outline-offset:2px}" +
    "</style>" +
    "<div class='box' style='--c:" + color + ";--on:" + onColor + "'>" +
    "<p class='promise' role='status' aria-live='polite'></p>" +
    "<fieldset class='choices' hidden><legend>How you get it</legend></fieldset>" +
    "<form class='where' novalidate>" +
    "<label for='" + uid + "-zip'>Delivery ZIP code</label>" +
    "<div class='row'><input id='" + uid + "-zip' name='zip' inputmode='numeric' autocomplete='postal-code' maxlength='10' placeholder='e.g. 85225'>" +
    "<button type='submit' class='check'>Check</button></div>" +
    "<button type='button' class='geo'>Use my location</button>" +
    "</form>" +
    "<button type='button' class='buy' aria-disabled='true'></button>" +
    "<p class='small'>Fast local delivery by doorstep · pay the shop as usual</p>" +
    "</div>";

  var status = root.querySelector(".promise");
  var form = root.querySelector(".where");
  var zipInput = root.querySelector("input");
  var geoButton = root.querySelector(".geo");
  var buy = root.querySelector(".buy");
  var choices = root.querySelector(".choices");
  buy.textContent = label;
  if (!navigator.geolocation || !window.isSecureContext) geoButton.hidden = true;

  var current = null; // {preview, destination, place}
  var REASONS = {
    out_of_stock: "Out of stock for fast delivery.",
    outside_service_area: "We don't deliver to this area yet.",
    past_cutoff: "Too late for today's delivery.",
    no_capacity: "Fully booked for now.",
    too_far: "Too far for fast delivery.",
    partner_closed: "Our local partner is closed that day."
  };

  function say(message, bad) {
    status.textContent = "";
    status.className = "promise" + (bad ? " bad" : "");
    if (typeof message === "string") status.textContent = message;
    else status.appendChild(message);
  }

  function money(cents) {
    return cents === 0 ? "free delivery" : "$" + (cents / 100).toFixed(2) + " delivery";
  }

  function price(cents) {
    return cents === 0 ? "free" : "$" + (cents / 100).toFixed(2);
  }

  // Counter pick-up next to the fastest delivery: the shopper picks one, the checkout opens
  // with it chosen (the hosted checkout still lets them change it).
  function showChoices(best, pickups) {
    while (choices.lastChild && choices.lastChild.tagName !== "LEGEND") choices.removeChild(choices.lastChild);
    choices.hidden = !pickups.length;
    if (!pickups.length) return;
    var offered = (best ? [best] : []).concat(pickups);
    offered.forEach(function (option, index) {
      var row = document.createElement("label");
      row.className = "choice";
      var radio = document.createElement("input");
      radio.type = "radio";
      radio.name = uid + "-option";
      radio.value = option.id;
      radio.checked = index === 0;
      radio.addEventListener("change", function () { if (current) current.option = option.id; });
      var text = document.createElement("span");
      var title = document.createElement("strong");
      var more = document.createElement("small");
      if (option.kind === "pickup" && option.pickup) {
        title.textContent = "Pick up at " + option.pickup.name;
        more.textContent = option.label + " · " + price(option.fee_cents) +
          (option.pickup.address ? " · " + option.pickup.address : "") + " · Open " + option.pickup.hours;
      } else {
        title.textContent = "Delivery: " + option.label;
        more.textContent = price(option.fee_cents);
      }
      text.appendChild(title);
      text.appendChild(more);
      row.appendChild(radio);
      row.appendChild(text);
      choices.appendChild(row);
    });
  }

  function request(method, path, body) {
    var options = { method: method, headers: { Accept: "application/json" }, credentials: "omit", mode: "cors" };
    if (body) {
      options.headers["Content-Type"] = "application/json";
      options.headers.Authorization = "Bearer " + key;
      options.body = JSON.stringify(body);
    }
    return fetch(api + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function preview(destination, place) {
    say("Checking delivery times…");
    current = null;
    choices.hidden = true;
    buy.setAttribute("aria-disabled", "true");
    return request("POST", "/v1/delivery-previews", {
      items: [{ sku: sku, quantity: quantity }],
      destination: destination
    }).then(function (result) {
      if (!result.ok) {
        if (window.console) console.warn("doorstep widget:", result.status, result.data && result.data.detail);
        say(result.status === 429 ? "Too many checks; try again in a minute." : "Fast delivery isn't available for this product right now.", true);
        return;
      }
      var p = result.data;
      var options = p.options || [];
      var pickups = options.filter(function (o) { return o.kind === "pickup"; });
      var deliveries = options.filter(function (o) { return o.kind !== "pickup"; });
      showChoices(deliveries[0], pickups);
      if (options.length) {
        var best = deliveries[0] || options[0];
        var line = document.createElement("span");
        var strong = document.createElement("strong");
        strong.textContent = best.label;
        line.appendChild(strong);
        line.appendChild(document.createTextNode(" · " + money(best.fee_cents) + " to " + place));
        say(line);
        current = { preview: p, destination: destination, place: place, at: Date.now(), option: best.id };
        buy.removeAttribute("aria-disabled");
      } else {
        var first = (p.unavailable || [])[0];
        say((first && REASONS[first.reason]) || "We can't deliver this here right now.", true);
      }
      host.dispatchEvent(new CustomEvent("doorstep:promise", { bubbles: true, composed: true, detail: p }));
    }, function () {
      say("We couldn't reach the delivery service. Check your connection and try again.", true);
    });
  }

  function checkZip(zip) {
    var normal = (zip || "").trim();
    if (!/^\d{5}(-?\d{4})?$/.test(normal)) {
      say("Enter a 5-digit ZIP code, like 85225.", true);
      zipInput.setAttribute("aria-invalid", "true");
      zipInput.focus();
      return;
    }
    zipInput.removeAttribute("aria-invalid");
    say("Checking delivery times…");
    request("GET", "/v1/geo/postal-codes/" + encodeURIComponent(normal.slice(0, 5))).then(function (result) {
      if (!result.ok) {
        say(result.status === 404 ? "We don't deliver to ZIP " + normal.slice(0, 5) + " yet." : "Couldn't look up that ZIP code. Try again.", true);
        return;
      }
      try { window.localStorage.setItem(STORE, result.data.postal_code); } catch (e) { /* private mode */ }
      preview({ lat: result.data.lat, lng: result.data.lng, postal_code: result.data.postal_code },
        result.data.postal_code + " (" + result.data.place + ")");
    }, function () {
      say("We couldn't reach the delivery service. Check your connection and try again.", true);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    checkZip(zipInput.value);
  });

  geoButton.addEventListener("click", function () {
    say("Finding your location…");
    navigator.geolocation.getCurrentPosition(function (position) {
      preview({ lat: position.coords.latitude, lng: position.coords.longitude }, "your location");
    }, function () {
      say("We couldn't get your location. Enter your ZIP code instead.", true);
      zipInput.focus();
    }, { timeout: 10000, maximumAge: 600000 });
  });

  function checkoutUrl(p) {
    var query = new URLSearchParams({ key: key, preview: p.id, "return": window.location.href, color: color });
    if (current && current.option) query.set("option", current.option);
    if (attr("payment-ref", "")) query.set("payment_ref", attr("payment-ref", ""));
    if (attr("ref", "")) query.set("ref", attr("ref", ""));
    return api + "/checkout?" + query.toString();
  }

  function go(p) {
    var url = checkoutUrl(p);
    if (openIn === "new") window.open(url, "_blank", "noopener");
    else window.location.assign(url);
  }

  buy.addEventListener("click", function () {
    if (!current) {
      say("Enter your ZIP code first to see when it arrives.", true);
      zipInput.focus();
      return;
    }
    // A quote is held for 10 minutes; ask again rather than send the shopper to an old one.
    var age = Date.now() - current.at;
    if (age > 8 * 60 * 1000) {
      var wanted = current.option;
      preview(current.destination, current.place).then(function () {
        if (!current) return;
        var still = (current.preview.options || []).some(function (o) { return o.id === wanted; });
        if (still) current.option = wanted;
        go(current.preview);
      });
    } else {
      go(current.preview);
    }
  });

  say("Enter your ZIP code to see when it arrives.");
  var saved = null;
  try { saved = window.localStorage.getItem(STORE); } catch (e) { saved = null; }
  if (saved) { zipInput.value = saved; checkZip(saved); }
})();
