// Live password-strength meter (docs/security.md): asks the server's own check (POST /password/strength,
// the same zxcvbn policy as the form) a moment after the person stops typing, and says the answer in a
// polite live region under the box. Without this file the form's check on submit is all there is.
(function () {
  "use strict";
  var WAIT_MS = 400;
  document.querySelectorAll('input[name="password"][autocomplete="new-password"]').forEach(function (input) {
    var form = input.form;
    var token = form && form.querySelector('input[name="csrf_token"]');
    if (!token || !window.fetch) { return; }
    var meter = document.createElement("p");
    meter.className = "password-meter";
    meter.id = input.id + "-strength";
    meter.setAttribute("aria-live", "polite");
    var anchor = input.parentNode.querySelector(".password-toggle") || input;
    anchor.insertAdjacentElement("afterend", meter);
    input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + meter.id).trim());
    var timer = null;
    var asked = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      if (!input.value) { meter.textContent = ""; meter.removeAttribute("data-score"); return; }
      timer = setTimeout(function () {
        var ticket = ++asked;
        var body = new FormData();
        body.append("password", input.value);
        ["full_name", "login"].forEach(function (name) {
          var other = form.querySelector('[name="' + name + '"]');
          if (other && other.value) { body.append(name, other.value); }
        });
        fetch(form.getAttribute("data-strength-url") || "/password/strength", {
          method: "POST", body: body, credentials: "same-origin",
          headers: {"X-CSRFToken": token.value, "Accept": "application/json"}
        }).then(function (answer) { return answer.json(); }).then(function (result) {
          if (ticket !== asked) { return; }  // an older answer arriving late
          meter.textContent = result.message;
          meter.setAttribute("data-score", result.ok ? String(result.score) : "weak");
        }).catch(function () { meter.textContent = ""; });
      }, WAIT_MS);
    });
  });
})();
