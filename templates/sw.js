/* The service worker: the app shell, and her own Today page and guided session when offline.

   Kept: the shell (styles, scripts, icons, the offline page) and the last Today page and
   guided session she opened, each replaced every time she opens it online. Nothing else is
   kept: no other page (her progress, check-ins, a coach's pages all hold health data), no
   POST, no answer from another site. Logging out, or being sent to the login page, empties the
   kept pages. Served by programs.views.app.service_worker, which fills in CONFIG. */
"use strict";

const CONFIG = {{ config|safe }};
const SHELL = "shell-" + CONFIG.version;
const PAGES = "pages";
// Her Today page and her guided session, and only these.
const KEPT_PAGE = /^\/enrolments\/\d+\/(session\/)?$/;
const TODAY = /^\/enrolments\/\d+\/$/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL).then((cache) => cache.addAll(CONFIG.shell)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name !== SHELL && name !== PAGES).map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

function forget() {
  return caches.delete(PAGES);
}

// The page posts this as she logs out (static/js/app.js), before the logout request itself.
self.addEventListener("message", (event) => {
  if (event.data === "logout") {
    event.waitUntil(forget());
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method !== "GET") {
    // Never kept. A logout empties the kept pages whatever else happens.
    if (url.pathname === CONFIG.logout) {
      event.waitUntil(forget());
    }
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(navigate(event, request, url));
  } else if (CONFIG.shell.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((kept) => kept || fetch(request)));
  }
});

async function navigate(event, request, url) {
  try {
    const response = await fetch(request);
    // Where she ended up: /today/ redirects to her Today page, which is kept too.
    const landed = new URL(response.url || request.url).pathname;
    if (landed === CONFIG.login) {
      event.waitUntil(forget()); // logged out elsewhere, or someone else is about to log in
    } else if (response.ok && KEPT_PAGE.test(landed)) {
      const copy = response.clone();
      event.waitUntil(caches.open(PAGES).then((cache) => cache.put(landed, copy)));
    }
    return response;
  } catch (offline) {
    return (await kept(url.pathname)) || (await caches.match(CONFIG.offline)) || Response.error();
  }
}

async function kept(path) {
  const pages = await caches.open(PAGES);
  if (KEPT_PAGE.test(path)) {
    return pages.match(path);
  }
  if (path === CONFIG.today) {
    // The Today page she opened last.
    const keys = (await pages.keys()).filter((key) => TODAY.test(new URL(key.url).pathname));
    return keys.length ? pages.match(keys[keys.length - 1]) : undefined;
  }
  return undefined;
}
