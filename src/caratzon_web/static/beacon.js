/* Caratzon engagement beacon. The page includes this script ONLY when the
   visitor has accepted analytics. It reports the deepest point of the design
   page reached (0-100 %) once, when the page is hidden or left. The CSRF token
   travels in the form-encoded body: navigator.sendBeacon cannot set headers. */
(function () {
  "use strict";
  var tag = document.getElementById("engagement-beacon");
  if (!tag || !navigator.sendBeacon || !window.URLSearchParams) {
    return;
  }
  var deepest = 0;
  var sent = false;

  function depth() {
    var doc = document.documentElement;
    var scrollable = doc.scrollHeight - window.innerHeight;
    if (scrollable <= 0) {
      return 100;
    }
    var percent = Math.round((window.scrollY / scrollable) * 100);
    return Math.min(100, Math.max(0, percent));
  }

  function track() {
    var now = depth();
    if (now > deepest) {
      deepest = now;
    }
  }

  function send() {
    if (sent) {
      return;
    }
    sent = true;
    var body = new URLSearchParams();
    body.set("design_id", tag.dataset.design);
    body.set("kind", "scroll");
    body.set("scroll_depth", String(deepest));
    body.set("csrf_token", tag.dataset.csrf);
    navigator.sendBeacon(tag.dataset.url, body);
  }

  track();
  window.addEventListener("scroll", track, { passive: true });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      send();
    }
  });
  window.addEventListener("pagehide", send);
})();
