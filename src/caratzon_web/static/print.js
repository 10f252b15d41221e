/* The "Print" button on printable pages (a plain button: the CSP allows no inline
   scripts). Without this script the button stays hidden; the browser's own print
   command gives the same result (see trade.css, @media print). */
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-print]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function () {
      window.print();
    });
  }
})();
