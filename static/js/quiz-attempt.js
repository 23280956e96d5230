// Saves each answer as it changes and counts the time down. Without JavaScript the page's
// own "Save / Next" buttons post the same form; the server is the judge of time either way.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form) return;
  var url = form.getAttribute("data-autosave");
  var status = form.querySelector(".autosave-status");
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null, inFlight = false, again = false;

  function say(text) { if (status) status.textContent = text; }

  function send() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    var data = new FormData(form);
    fetch(url, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (result.ok) { say(form.getAttribute("data-saved") || "\u2713"); return; }
      if (result.body.review) { window.location.href = result.body.review; return; }
      say(result.body.message || "!");
    }).catch(function () {
      // Offline for a moment: keep the answers in the form and try again shortly.
      say("\u2026");
      setTimeout(send, 3000);
    }).then(function () {
      inFlight = false;
      if (again) { again = false; send(); }
    });
  }

  function schedule(delay) { clearTimeout(timer); timer = setTimeout(send, delay); }
  form.addEventListener("change", function () { schedule(150); });
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA" || event.target.type === "text") schedule(800);
  });

  var clock = document.querySelector("[data-seconds-left]");
  if (clock) {
    var end = Date.now() + parseInt(clock.getAttribute("data-seconds-left"), 10) * 1000;
    var value = clock.querySelector(".timer-value");
    setInterval(function () {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      value.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
      if (left === 0) { send(); }
    }, 1000);
  }
})();
