// Progressive enhancement only: every page reads fully without JavaScript.
// Invoice filters: show the rows of one year and/or status.
(function () {
  "use strict";
  document.querySelectorAll("form[data-filter-table]").forEach(function (form) {
    var target = document.getElementById(form.getAttribute("data-filter-table"));
    if (!target) { return; }
    var rows = target.querySelectorAll("tbody tr");
    var count = form.querySelector(".filter-count");
    function apply() {
      var year = form.elements.year.value;
      var status = form.elements.status.value;
      var shown = 0;
      rows.forEach(function (row) {
        var ok = (!year || row.getAttribute("data-year") === year) &&
          (!status || row.getAttribute("data-status") === status);
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      if (count) {  // "1 of 8 invoices": the page's own words, in its language
        count.textContent = (count.getAttribute("data-template") || "{shown} / {total}")
          .replace("{shown}", String(shown)).replace("{total}", String(rows.length));
      }
    }
    form.hidden = false;
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  });
})();
// Drawn signatures (portal.acceptance.signature: drawn): a canvas signed with a finger,
// a stylus or the mouse, sent as a small PNG with the accept form. Without JavaScript the
// box stays hidden and the typed full name signs.
(function () {
  "use strict";
  document.querySelectorAll("[data-signature-pad]").forEach(function (pad) {
    var canvas = pad.querySelector("canvas");
    var field = pad.querySelector("input[type=hidden]");
    var error = pad.querySelector(".signature-error");
    var form = pad.closest("form");
    if (!canvas || !field || !form || !canvas.getContext) { return; }
    var ctx = canvas.getContext("2d");
    var limit = parseInt(pad.getAttribute("data-limit") || "32768", 10);
    var drawn = false;
    var last = null;
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    function point(x, y) {  // page pixels to canvas pixels
      var box = canvas.getBoundingClientRect();
      return { x: (x - box.left) * canvas.width / box.width, y: (y - box.top) * canvas.height / box.height };
    }
    function start(x, y) { last = point(x, y); }
    function move(x, y) {
      if (!last) { return; }
      var next = point(x, y);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(next.x, next.y);
      ctx.stroke();
      last = next;
      drawn = true;
      field.value = "";
    }
    function end() { last = null; }
    function say(message) {
      if (!error) { return; }
      error.textContent = message || "";
      error.hidden = !message;
    }
    if (window.PointerEvent) {
      canvas.addEventListener("pointerdown", function (event) {
        event.preventDefault();
        if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
        start(event.clientX, event.clientY);
      });
      canvas.addEventListener("pointermove", function (event) { move(event.clientX, event.clientY); });
      canvas.addEventListener("pointerup", end);
      canvas.addEventListener("pointercancel", end);
    } else {  // browsers without pointer events: mouse and touch
      canvas.addEventListener("mousedown", function (event) { start(event.clientX, event.clientY); });
      canvas.addEventListener("mousemove", function (event) { move(event.clientX, event.clientY); });
      window.addEventListener("mouseup", end);
      canvas.addEventListener("touchstart", function (event) {
        event.preventDefault();
        start(event.touches[0].clientX, event.touches[0].clientY);
      });
      canvas.addEventListener("touchmove", function (event) {
        event.preventDefault();
        move(event.touches[0].clientX, event.touches[0].clientY);
      });
      canvas.addEventListener("touchend", end);
    }
    pad.querySelector(".signature-clear").addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      field.value = "";
      say("");
    });
    form.addEventListener("submit", function (event) {
      if (!drawn) {
        event.preventDefault();
        say(pad.getAttribute("data-empty-message"));
        return;
      }
      var url = canvas.toDataURL("image/png");
      if ((url.length - 22) * 3 / 4 > limit) {  // 22: "data:image/png;base64,"
        event.preventDefault();
        say(pad.getAttribute("data-large-message"));
        return;
      }
      field.value = url;
      say("");
    });
    pad.hidden = false;
  });
})();

// Proof of payment: on S3 the file goes straight to the bucket (a presigned POST the gate
// signs), then the gate is told which upload it was. Without JavaScript, or when the
// gate says the storage takes no direct uploads (a folder), the form posts to the gate.
(function () {
  "use strict";
  document.querySelectorAll("form.form-proof").forEach(function (form) {
    var busy = false;
    form.addEventListener("submit", function (event) {
      var file = form.elements.file.files[0];
      if (busy || !file || !window.fetch || !window.FormData) { return; }
      event.preventDefault();
      busy = true;
      var ask = new FormData();
      ask.append("csrf_token", form.elements.csrf_token.value);
      ask.append("type", file.type);
      ask.append("size", String(file.size));
      ask.append("name", file.name);
      fetch(form.getAttribute("data-proof-start"), {method: "POST", body: ask, credentials: "same-origin"})
        .then(function (answer) { return answer.ok ? answer.json() : {direct: false}; })
        .then(function (plan) {
          if (!plan.direct) { form.submit(); return null; }
          var body = new FormData();
          Object.keys(plan.fields).forEach(function (name) { body.append(name, plan.fields[name]); });
          body.append("file", file);
          // no-cors: the bucket need not allow this origin; the gate checks what arrived
          return fetch(plan.url, {method: "POST", body: body, mode: "no-cors", credentials: "omit"})
            .then(function () { report(form, plan); }, function () { report(form, plan); });
        })
        .catch(function () { form.submit(); });
    });
  });

  function report(form, plan) {
    var done = document.createElement("form");
    done.method = "post";
    done.action = form.getAttribute("data-proof-done");
    done.hidden = true;
    var fields = {csrf_token: form.elements.csrf_token.value, note: form.elements.note.value,
      upload: plan.upload, type: plan.type, name: plan.name, issued: plan.issued, ticket: plan.ticket};
    Object.keys(fields).forEach(function (name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name];
      done.appendChild(input);
    });
    document.body.appendChild(done);
    done.submit();
  }
})();

// Copy buttons (the IBAN, the payment reference): shown only where the browser can copy.
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) { return; }
  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    var label = button.firstChild ? button.firstChild.nodeValue : "";
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        button.firstChild.nodeValue = button.getAttribute("data-done") || label;
        window.setTimeout(function () { button.firstChild.nodeValue = label; }, 2500);
      });
    });
  });
})();

// On a phone the sections scroll sideways: start with the current one in the middle.
(function () {
  "use strict";
  var current = document.querySelector(".site-nav a[aria-current]");
  var list = current && current.closest("ul");
  if (!list || list.scrollWidth <= list.clientWidth) { return; }
  // measured from the item before it: the current one may be held at an edge (sticky)
  var item = current.closest("li");
  var before = item.previousElementSibling;
  if (!before) { return; }
  var left = before.getBoundingClientRect().right - list.getBoundingClientRect().left + list.scrollLeft;
  list.scrollLeft = left + item.offsetWidth / 2 - list.clientWidth / 2;
})();
