/* The live quote on the order form: when a field changes, post the form to the
   JSON quote endpoint and show the breakdown the server rendered. Without this
   script the "Quote" button does the same with a page load. (The CSP allows no
   inline scripts, hence this file.) */
(function () {
  "use strict";
  var form = document.getElementById("order-form");
  var target = document.getElementById("quote");
  if (!form || !target || !window.fetch || !window.FormData) { return; }
  var url = form.getAttribute("data-quote-url");
  var timer = null;
  var latest = 0;

  function refresh() {
    var ticket = ++latest;
    fetch(url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data && ticket === latest && typeof data.html === "string") {
        target.innerHTML = data.html; // rendered and escaped by the server's template
      }
    }).catch(function () { /* the Quote button still works */ });
  }

  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 400);
  }

  form.addEventListener("change", later);
  form.addEventListener("input", later);
})();
