/* Practice simulations: the pages work without this script (every button is a form that posts
   and comes back to the lesson page). With it, a step's answer swaps the practice panel in place
   instead of reloading and scrolling the whole page. Any failure falls back to the plain form post. */
(function () {
  "use strict";
  var panel = document.querySelector("[data-practice]");
  if (!panel || !window.fetch || !window.FormData || !window.DOMParser) { return; }

  function focusPanel() {
    var target = panel.querySelector(".practice-feedback, .phone-title, h2");
    if (target) {
      target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: true });
      panel.scrollIntoView({ block: "start" });
    }
  }

  panel.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("practice-form") || form.dataset.plain) { return; }
    if (panel.classList.contains("busy")) { event.preventDefault(); return; }
    event.preventDefault();
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) { data.append(event.submitter.name, event.submitter.value); }
    panel.classList.add("busy");
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("[data-practice]");
        if (!fresh) { throw new Error("no practice panel"); }
        panel.innerHTML = fresh.innerHTML;
        var flashes = page.querySelector(".flash-list");
        var old = document.querySelector("main .flash-list");
        if (old && old.parentNode) { old.parentNode.remove(); }
        if (flashes) { panel.insertAdjacentElement("beforebegin", flashes.parentNode); }
        panel.classList.remove("busy");
        focusPanel();
      })
      .catch(function () {
        // Let the browser post the form itself: the server's page (or its error message) shows.
        form.dataset.plain = "1";
        if (form.requestSubmit) { form.requestSubmit(event.submitter || undefined); } else { form.submit(); }
      });
  });
})();
