// Demo only: writes the one widget tag with the key and server taken from this page's address
// (index.html?key=pk_...&api=http://127.0.0.1:8000[&sku=KETTLE-1]), so the page works without editing.
// On a real shop, paste the <script src=".../widget.js" data-key=...> tag itself.
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var api = (params.get("api") || "http://127.0.0.1:8000").replace(/\/+$/, "");
  var tag = document.createElement("script");
  tag.src = api + "/widget.js";
  tag.setAttribute("data-key", params.get("key") || "pk_REPLACE_WITH_YOUR_PUBLISHABLE_KEY");
  tag.setAttribute("data-sku", params.get("sku") || "PAN-28");
  tag.setAttribute("data-quantity", "1");
  tag.setAttribute("data-color", "#9a3412");
  tag.setAttribute("data-label", "Get it today");
  if (params.get("payment_ref")) tag.setAttribute("data-payment-ref", params.get("payment_ref"));
  document.currentScript.parentNode.insertBefore(tag, document.currentScript.nextSibling);
})();
