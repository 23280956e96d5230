// The attempt page: every answer is kept on this device until the server has confirmed THAT
// answer, sent again with backoff on any failure, and carried by "Submit" until the server has
// confirmed the submission. Without JavaScript the page's own buttons post the same form.
//
// How a change is confirmed: each change of an answer gets a version (milliseconds, kept above
// every version this page has seen for that question). The copy on this device is
// {question id: {v: version, f: [[field name, value], ...]}} in localStorage, per attempt. A save
// sends each kept answer with its version (`v<id>` fields); the server stores it only when it is
// newer than what it holds and answers with the version it holds. The copy of a question is
// forgotten only when that version is at least the one kept, so a late reply about an older
// change never clears a newer one, and a replayed save changes nothing on the server.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form) return;
  var url = form.getAttribute("data-autosave");
  var token = form.querySelector("input[name=csrf_token]").value;
  var text = JSON.parse(form.getAttribute("data-messages") || "{}");
  var statusLine = form.querySelector(".autosave-status");
  var detailLine = form.querySelector(".autosave-detail");
  var finishForm = document.querySelector("form.finish-form");
  var finishButton = finishForm && finishForm.querySelector("button[type=submit]");
  var finishNote = finishForm && finishForm.querySelector(".finish-status");
  var key = "lms-attempt:" + url;
  // Untimed quizzes only: a save that finds no network is also queued by the service worker
  // (templates/offline/sw.js), which sends it after any later page view, even if this page is closed.
  var queueAs = form.getAttribute("data-offline-queue");
  var timed = !!document.querySelector("[data-seconds-left]");
  var BASE_DELAY = 1000, MAX_DELAY = 30000, SAVE_TIMEOUT = 15000, SUBMIT_TIMEOUT = 30000;

  var memory = {};        // the copy, when this browser cannot store it (private mode, full)
  var durable = true;     // the copy survives a reload
  var known = {};         // question id → the newest version the server is known to hold
  var inFlight = false, finishing = false, done = false, touched = false;
  var failures = 0, problem = "", retryAt = 0;
  var sendTimer = null, retryTimer = null;

  // ---------------------------------------------------------------- the copy on this device

  function load() {
    if (!durable) return memory;
    try {
      var raw = localStorage.getItem(key);
      return raw ? JSON.parse(raw) || {} : {};
    } catch (e) {
      durable = false;
      return memory;
    }
  }

  function store(kept) {
    memory = kept;
    try {
      if (Object.keys(kept).length) localStorage.setItem(key, JSON.stringify(kept));
      else localStorage.removeItem(key);
      durable = true;
    } catch (e) { durable = false; }
  }

  function count() { return Object.keys(load()).length; }

  function shownIds() {
    return Array.prototype.map.call(form.querySelectorAll("input[name=shown]"), function (i) { return i.value; });
  }

  function questionOf(element) {
    var box = element.closest && element.closest("fieldset.question");
    return box ? box.id.replace("question-", "") : null;
  }

  function ownFields(qid) {
    var box = document.getElementById("question-" + qid);
    var name = "q" + qid;
    return box ? Array.prototype.filter.call(box.querySelectorAll("input, select, textarea"), function (field) {
      return field.name === name || field.name.indexOf(name + "-") === 0;
    }) : [];
  }

  // What a plain form post would send for this question (FormData's rules).
  function fieldsOf(qid) {
    var out = [];
    ownFields(qid).forEach(function (field) {
      if (field.disabled || ((field.type === "checkbox" || field.type === "radio") && !field.checked)) return;
      out.push([field.name, field.value]);
    });
    return out;
  }

  function putBack(qid, pairs) {
    var has = {}, values = {};
    pairs.forEach(function (pair) {
      has[pair[0] + "\u0000" + pair[1]] = true;
      if (!(pair[0] in values)) values[pair[0]] = pair[1];
    });
    ownFields(qid).forEach(function (field) {
      if (field.disabled) return;
      if (field.type === "checkbox" || field.type === "radio") field.checked = !!has[field.name + "\u0000" + field.value];
      else if (field.name in values) field.value = values[field.name];
    });
  }

  function record(qid) {
    var kept = load();
    var before = kept[qid] ? kept[qid].v : 0;
    kept[qid] = { v: Math.max(Date.now(), (known[qid] || 0) + 1, before + 1), f: fieldsOf(qid) };
    store(kept);
    touched = true;
  }

  // The server holds `version` of this answer (or refuses it for good): forget older copies.
  function confirmed(qid, version, closed) {
    if (version) known[qid] = Math.max(known[qid] || 0, version);
    var kept = load();
    if (kept[qid] && (closed || (version && version >= kept[qid].v))) {
      delete kept[qid];
      store(kept);
    }
  }

  function bodyOf(kept) {
    var body = new FormData();
    body.append("csrf_token", token);
    Object.keys(kept).forEach(function (qid) {
      body.append("shown", qid);
      body.append("v" + qid, String(kept[qid].v));
      kept[qid].f.forEach(function (pair) { body.append(pair[0], pair[1]); });
    });
    return body;
  }

  // ---------------------------------------------------------------- what the learner reads

  function fill(template, value) { return (template || "").replace("{n}", value); }

  function show() {
    var left = count();
    var line = "";
    if (left && failures) line = durable ? text.local : text.memory;
    else if (left) line = text.saving;
    else if (touched) line = text.saved;
    if (statusLine) {
      statusLine.textContent = line || "";
      statusLine.setAttribute("data-state", left ? (failures ? "local" : "saving") : (touched ? "saved" : ""));
    }
    var wait = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    var next = inFlight ? text.resending : fill(text.retry, wait);
    if (detailLine) detailLine.textContent = left && failures ? problem + " " + next : "";
  }

  function reason(result) {
    if (!result) return timed ? text.timedOffline : text.offline;
    if (result.status === 202 && result.data && result.data.queued) return text.queued;
    if (result.status === 401) return text.login;
    if (result.status === 429 || result.status === 503) return text.busy;
    if (result.status >= 500) return fill(text.server, result.status);
    if (result.data && result.data.message) return result.data.message;
    return fill(text.refused, result.status);
  }

  // ---------------------------------------------------------------- talking to the server

  function post(target, body, timeout) {
    var headers = { "Accept": "application/json", "X-CSRFToken": token };
    if (queueAs && target === url) headers["X-Offline-Queue"] = queueAs;
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, timeout) : null;
    return fetch(target, {
      method: "POST", body: body, credentials: "same-origin", signal: controller ? controller.signal : undefined,
      headers: headers
    }).then(function (response) {
      return response.text().then(function (raw) {
        var data = null;
        try { data = JSON.parse(raw); } catch (e) { data = null; }  // a proxy's or gunicorn's HTML page
        return { status: response.status, ok: response.ok, data: data, retryAfter: response.headers.get("Retry-After") };
      });
    }).finally(function () { clearTimeout(timer); });
  }

  // Exponential backoff with "equal jitter" (half fixed, half random), so a crowd of pages that
  // lost the server together does not come back together; a Retry-After is honoured.
  function backoff(attempt, retryAfter) {
    var ceiling = Math.min(MAX_DELAY, BASE_DELAY * Math.pow(2, attempt - 1));
    var delay = ceiling / 2 + Math.random() * ceiling / 2;
    var asked = retryAfter ? (/^\d+$/.test(retryAfter) ? retryAfter * 1000 : Date.parse(retryAfter) - Date.now()) : 0;
    return Math.max(delay, Math.min(asked || 0, 5 * MAX_DELAY));
  }

  function schedule(delay) {
    clearTimeout(sendTimer);
    sendTimer = setTimeout(send, delay);
  }

  function failed(result) {
    failures += 1;
    problem = reason(result);
    var delay = backoff(failures, result && result.retryAfter);
    retryAt = Date.now() + delay;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(send, delay);
    show();
  }

  // The attempt is over on the server (submitted elsewhere, or time is up): show the review.
  function over(data) {
    if (finishing || done) return;
    done = true;
    store({});
    window.location.assign(data.review);
  }

  // `sent`: question id → the version this save carried.
  function answered(result, sent) {
    if (result.ok && result.data && result.data.answers) {
      var answers = result.data.answers;
      Object.keys(answers).forEach(function (qid) {
        confirmed(qid, answers[qid].version, answers[qid].state === "closed");
      });
      var kept = load();
      var unanswered = Object.keys(kept).filter(function (qid) { return sent[qid] === kept[qid].v; });
      if (unanswered.length) { failed(result); return; }  // not confirmed, not refused: try later
      failures = 0;
      problem = "";
      show();
      if (Object.keys(kept).length) schedule(0);  // changed again while this save was on its way
      return;
    }
    if (result.status === 409 && result.data && result.data.finished) { over(result.data); return; }
    failed(result);
  }

  function send() {
    clearTimeout(sendTimer);
    if (inFlight || finishing || done) return;
    var kept = load();
    if (!Object.keys(kept).length) { show(); return; }
    clearTimeout(retryTimer);
    inFlight = true;
    show();
    var sent = {};
    Object.keys(kept).forEach(function (qid) { sent[qid] = kept[qid].v; });
    post(url, bodyOf(kept), SAVE_TIMEOUT).then(function (result) {
      inFlight = false;
      answered(result, sent);
    }, function () {
      inFlight = false;
      failed(null);
    });
  }

  // A change made while a submission is on its way is kept too (if that submission fails, it goes next).
  function changed(event, delay) {
    var qid = questionOf(event.target);
    if (!qid || done) return;
    record(qid);
    show();
    if (!finishing) schedule(delay);
  }

  // ---------------------------------------------------------------- submitting

  function submitFailed(why) {
    finishing = false;
    if (finishButton) {
      finishButton.disabled = false;
      finishButton.textContent = text.submitAgain;
    }
    if (finishNote) finishNote.textContent = fill(text.notSubmitted, why);
    show();
    schedule(0);  // the answers keep going to the server meanwhile
  }

  // "Submit my answers" carries every answer this device still keeps; the server saves them,
  // then grades. The copy is forgotten only once the server says the attempt is submitted.
  function submit(event) {
    event.preventDefault();
    if (finishing || done) return;
    finishing = true;
    clearTimeout(sendTimer);
    if (finishButton) finishButton.disabled = true;
    if (finishNote) finishNote.textContent = text.submitting;
    post(finishForm.getAttribute("action"), bodyOf(load()), SUBMIT_TIMEOUT).then(function (result) {
      if (result.ok && result.data && result.data.finished) {
        done = true;
        store({});
        window.location.assign(result.data.review);
        return;
      }
      submitFailed(reason(result));
    }, function () { submitFailed(text.offline); });
  }

  // The Save / Next / Check buttons post the page as a plain form: each answer goes with its
  // version (the kept one, or the one the server holds), so an unchanged answer changes nothing.
  function versionFields() {
    var kept = load();
    Array.prototype.forEach.call(form.querySelectorAll("input.answer-version"), function (old) { old.remove(); });
    shownIds().forEach(function (qid) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.className = "answer-version";
      input.name = "v" + qid;
      input.value = String(kept[qid] ? kept[qid].v : (known[qid] || 0));
      form.appendChild(input);
    });
  }

  // ---------------------------------------------------------------- opening the page

  // Pages served before versions existed kept {shown, entries} under another key: adopt them.
  function adoptOldCopy() {
    var oldKey = "lms-unsaved:" + url, old = null;
    try { old = JSON.parse(localStorage.getItem(oldKey) || "null"); localStorage.removeItem(oldKey); } catch (e) { old = null; }
    if (!old || !old.entries || old.shown !== shownIds().join(",")) return;
    var kept = load();
    shownIds().forEach(function (qid) {
      var pairs = old.entries.filter(function (p) { return p[0] === "q" + qid || p[0].indexOf("q" + qid + "-") === 0; });
      if (!kept[qid]) kept[qid] = { v: Math.max(Date.now(), (known[qid] || 0) + 1), f: pairs };
    });
    store(kept);
  }

  // Put back what the server has not confirmed; forget what it already holds (or holds newer).
  function restore() {
    var kept = load();
    shownIds().forEach(function (qid) {
      if (!kept[qid]) return;
      if (kept[qid].v <= (known[qid] || 0)) delete kept[qid];
      else putBack(qid, kept[qid].f);
    });
    store(kept);
    return Object.keys(kept).length > 0;
  }

  Array.prototype.forEach.call(form.querySelectorAll("fieldset.question[data-version]"), function (box) {
    known[box.id.replace("question-", "")] = parseInt(box.getAttribute("data-version"), 10) || 0;
  });
  adoptOldCopy();
  form.addEventListener("change", function (event) { changed(event, 150); });
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA" || event.target.type === "text") changed(event, 800);
  });
  form.addEventListener("submit", versionFields);
  if (finishForm) finishForm.addEventListener("submit", submit);
  window.addEventListener("online", function () { if (count()) send(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && count()) send();
  });
  // Leaving with answers not yet confirmed: one more try (the copy stays for the next visit).
  window.addEventListener("pagehide", function () {
    if (finishing || done || !count()) return;
    try {
      fetch(url, { method: "POST", body: bodyOf(load()), credentials: "same-origin", keepalive: true,
                   headers: { "Accept": "application/json", "X-CSRFToken": token } }).catch(function () {
        /* too large for a keepalive request, or no network: sent when the page is opened again */
      });
    } catch (e) { /* sent when the page is opened again */ }
  });
  if (restore()) { touched = true; send(); }
  setInterval(function () { if (failures && count()) show(); }, 1000);  // the countdown to the next try

  var clock = document.querySelector("[data-seconds-left]");
  if (clock) {
    var end = Date.now() + parseInt(clock.getAttribute("data-seconds-left"), 10) * 1000;
    var value = clock.querySelector(".timer-value");
    var sentAtZero = false;
    setInterval(function () {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      value.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
      if (left === 0 && !sentAtZero) { sentAtZero = true; send(); }
    }, 1000);
  }
})();
