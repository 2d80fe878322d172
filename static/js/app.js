/* Installable: registers the service worker (served at /sw.js, templates/sw.js), and tells it
   to forget her kept pages as she logs out. */
"use strict";

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(() => {
    // Without it the site works as before, online only.
  });
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches("form.logout") && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage("logout");
    }
  });
}
