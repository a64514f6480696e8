// Hosted checkout: one submit per form. The server is idempotent anyway; this stops the
// second tap from showing a spinner for nothing.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-once]");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      var button = form.querySelector("button[type=submit]");
      if (button) { button.setAttribute("aria-disabled", "true"); button.textContent = "Placing your order…"; }
    });
  });
  var alert = document.querySelector(".alert[role=alert] a");
  if (alert) { document.querySelector(".alert").setAttribute("tabindex", "-1"); document.querySelector(".alert").focus(); }
})();
