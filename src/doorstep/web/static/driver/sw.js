// The driver app's service worker. Pages and the app's files come from the network when it
// answers and from the cache when it does not, so a page opened before a dead spot opens in it.
// A scan, a check-in or a delivery sent without signal is kept in IndexedDB with everything the
// driver recorded (the time and position of the moment are in its body) and sent again, in the
// order it happened, when the signal returns; the server accepts each once (client_event_id).
"use strict";
const CACHE = "doorstep-driver-v2";
const SHELL = ["/driver/", "/assets/driver/driver.css", "/assets/driver/app.js", "/assets/driver/road.js", "/driver/manifest.webmanifest"];
const DB = "doorstep-driver";
const STORE = "outbox";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function openDb() {
  return new Promise(function (resolve, reject) {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true }); };
    request.onsuccess = function () { resolve(request.result); };
    request.onerror = function () { reject(request.error); };
  });
}

function withStore(mode, work) {
  return openDb().then(function (db) {
    return new Promise(function (resolve, reject) {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
      tx.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
      tx.onerror = function () { reject(tx.error); };
    });
  });
}

function keep(request) {
  return request.clone().arrayBuffer().then(function (body) {
    const kept = {
      url: request.url,
      method: request.method,
      contentType: request.headers.get("Content-Type"),
      body: body,
      keptAt: new Date().toISOString()
    };
    return withStore("readwrite", function (store) { return store.add(kept); });
  });
}

function allKept() {
  return withStore("readonly", function (store) { return store.getAll(); });
}

function forget(seq) {
  return withStore("readwrite", function (store) { return store.delete(seq); });
}

function tell(message) {
  return self.clients.matchAll({ includeUncontrolled: true }).then(function (clients) {
    clients.forEach(function (client) { client.postMessage(message); });
  });
}

function count() {
  return allKept().then(function (items) { return tell({ type: "queue", count: items.length }); });
}

let replaying = null;
// Send what was kept, oldest first; stop at the first network failure (still no signal).
function replay() {
  if (replaying) return replaying;
  replaying = allKept().then(async function (items) {
    let sent = 0;
    for (const item of items) {
      const headers = { "X-Doorstep-Csrf": "1", "X-Doorstep-Replayed": "1" };
      if (item.contentType) headers["Content-Type"] = item.contentType;
      let response;
      try {
        response = await fetch(item.url, { method: item.method, headers: headers, body: item.body, credentials: "same-origin" });
      } catch (error) {
        break;
      }
      if (response.status >= 500 || response.status === 429) break;  // try again later
      await forget(item.seq);
      if (response.ok) sent += 1;
      else {
        let detail = "HTTP " + response.status;
        try { detail = (await response.json()).detail || detail; } catch (error) { /* not JSON */ }
        await tell({ type: "refused", detail: String(detail) });
      }
    }
    if (sent) await tell({ type: "sent", count: sent });
    await count();
  }).finally(function () { replaying = null; });
  return replaying;
}

self.addEventListener("sync", function (event) {
  if (event.tag === "doorstep-outbox") event.waitUntil(replay());
});

self.addEventListener("message", function (event) {
  const message = event.data || {};
  if (message.type === "replay") event.waitUntil(replay());
  if (message.type === "count") event.waitUntil(count());
});

function keptAnswer() {
  return new Response(JSON.stringify({ queued: true, detail: "No signal: kept on the phone, sent when the signal returns." }), {
    status: 202, headers: { "Content-Type": "application/json" }
  });
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const unsafe = request.method !== "GET" && request.method !== "HEAD";
  if (unsafe && url.pathname.startsWith("/v1/driver/") && !url.pathname.endsWith("/position")) {
    event.respondWith(
      fetch(request.clone()).then(function (response) {
        replay();  // the signal is back: send anything kept
        return response;
      }).catch(function () {
        return keep(request).then(function () {
          if (self.registration.sync) self.registration.sync.register("doorstep-outbox").catch(function () {});
          return count();
        }).then(keptAnswer);
      })
    );
    return;
  }
  if (request.method === "GET" && (url.pathname.startsWith("/driver/") || url.pathname.startsWith("/v1/driver/"))) {
    event.respondWith(
      fetch(request).then(function (response) {
        if (response.ok && !url.pathname.startsWith("/driver/sign")) {
          const copy = response.clone();
          caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      }).catch(function () {
        return caches.match(request).then(function (cached) {
          return cached || caches.match("/driver/");
        });
      })
    );
  }
});
