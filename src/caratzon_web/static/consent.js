/* Caratzon cookie banner: answer without leaving the page.
   The banner is a plain POST form and works without this script; with it, the
   choice is posted in the background and the banner goes away. */
(function () {
  "use strict";
  var banner = document.getElementById("cookie-banner");
  if (!banner || !window.fetch || !window.FormData) {
    return;
  }
  banner.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (!button || !button.name) {
      return; // an older browser: let the form post as usual
    }
    event.preventDefault();
    var data = new FormData(form);
    data.set(button.name, button.value);
    data.set("reply", "empty");
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        if (response.ok) {
          banner.remove();
        } else {
          window.location.assign(form.action);
        }
      })
      .catch(function () {
        window.location.assign(form.action);
      });
  });
})();
