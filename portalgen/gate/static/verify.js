// /verify: the PDF's SHA-256 computed here, in the browser (Web Crypto); the file is
// never sent anywhere. The fingerprint goes into the form, which asks the gate.
(function () {
  "use strict";
  var drop = document.getElementById("verify-drop");
  var input = document.getElementById("verify-file");
  var form = document.getElementById("verify-form");
  var field = document.getElementById("fingerprint");
  var status = document.getElementById("verify-status");
  if (!drop || !input || !form || !field) return;
  if (!(window.crypto && window.crypto.subtle && window.FileReader)) return; // paste only
  drop.hidden = false;

  function hex(buffer) {
    return Array.prototype.map
      .call(new Uint8Array(buffer), function (b) { return ("0" + b.toString(16)).slice(-2); })
      .join("");
  }

  function check(file) {
    if (!file) return;
    status.textContent = drop.getAttribute("data-reading");
    file.arrayBuffer()
      .then(function (bytes) { return window.crypto.subtle.digest("SHA-256", bytes); })
      .then(function (digest) {
        field.value = hex(digest);
        form.submit();
      })
      .catch(function () { status.textContent = drop.getAttribute("data-failed"); });
  }

  input.addEventListener("change", function () { check(input.files && input.files[0]); });
  drop.addEventListener("dragover", function (event) {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
  drop.addEventListener("drop", function (event) {
    event.preventDefault();
    drop.classList.remove("over");
    var files = event.dataTransfer && event.dataTransfer.files;
    check(files && files[0]);
  });
})();
