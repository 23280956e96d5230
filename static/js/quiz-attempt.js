// Saves each answer as it changes and counts the time down. Without JavaScript the page's
// own "Save / Next" buttons post the same form; the server is the judge of time either way.
//
// Weak networks: until the server has confirmed a change, the form's answers are also kept in
// this browser (localStorage). A reload, or reopening the page after the connection dropped,
// puts them back and sends them; leaving the page tries once more (a keepalive request).
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form) return;
  var url = form.getAttribute("data-autosave");
  var status = form.querySelector(".autosave-status");
  var token = form.querySelector("input[name=csrf_token]").value;
  var key = "lms-unsaved:" + url;
  var timer = null, inFlight = false, again = false, changes = 0;

  function say(text) { if (status) status.textContent = text; }

  function shownIds() {
    return Array.prototype.map.call(form.querySelectorAll("input[name=shown]"), function (i) { return i.value; }).join(",");
  }

  function entries() {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && typeof value === "string") out.push([name, value]);
    });
    return out;
  }

  function keep() {
    try { localStorage.setItem(key, JSON.stringify({ shown: shownIds(), entries: entries() })); } catch (e) { /* full or private mode */ }
  }

  function forget() {
    try { localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
  }

  // Put back answers this browser had not got confirmed (same questions on the page only).
  function restore() {
    var kept = null;
    try { kept = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { kept = null; }
    if (!kept || kept.shown !== shownIds()) return false;
    var has = {};
    kept.entries.forEach(function (pair) { has[pair[0] + "\u0000" + pair[1]] = true; });
    var values = {};
    kept.entries.forEach(function (pair) { if (!(pair[0] in values)) values[pair[0]] = pair[1]; });
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.disabled || field.name === "csrf_token" || field.type === "hidden") return;
      if (field.type === "checkbox" || field.type === "radio") {
        field.checked = !!has[field.name + "\u0000" + field.value];
      } else if (field.name in values) {
        field.value = values[field.name];
      }
    });
    return true;
  }

  function send() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    var sent = changes;
    fetch(url, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (result.ok) {
        if (sent === changes) forget();
        say(form.getAttribute("data-saved") || "\u2713");
        return;
      }
      forget();  // the server answered: finished or time is up, nothing more to send
      if (result.body.review) { window.location.href = result.body.review; return; }
      say(result.body.message || "!");
    }).catch(function () {
      // Offline for a moment: the answers stay in the form and in this browser; try again shortly.
      say(form.getAttribute("data-offline") || "\u2026");
      setTimeout(send, 3000);
    }).then(function () {
      inFlight = false;
      if (again) { again = false; send(); }
    });
  }

  function changed(delay) {
    changes += 1;
    keep();
    clearTimeout(timer);
    timer = setTimeout(send, delay);
  }

  form.addEventListener("change", function () { changed(150); });
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA" || event.target.type === "text") changed(800);
  });
  // The Save/Next buttons post the same answers; what they carry needs no second copy.
  form.addEventListener("submit", forget);
  // "Submit my answers" carries this page's answers too: the server saves them, then grades,
  // so an answer changed a moment before the click is never left behind.
  var finish = document.querySelector("form.finish-form");
  var leaving = false;
  if (finish) {
    finish.addEventListener("submit", function () {
      leaving = true;
      clearTimeout(timer);  // what a pending autosave would send goes with the submission
      entries().forEach(function (pair) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = pair[0]; input.value = pair[1];
        finish.appendChild(input);
      });
      forget();
    });
  }
  window.addEventListener("pagehide", function () {
    var unsaved = false;
    try { unsaved = !!localStorage.getItem(key); } catch (e) { unsaved = false; }
    if (!unsaved || leaving) return;
    try {
      fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin", keepalive: true,
                   headers: { "Accept": "application/json", "X-CSRFToken": token } });
    } catch (e) { /* the copy in this browser is sent when the page is opened again */ }
  });

  if (restore()) { changes += 1; send(); }

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
