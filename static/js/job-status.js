// Status pages of background jobs (people/agency imports, report exports) follow their job by
// themselves, without a meta refresh (which reloads the whole page, moves the reader back to the
// top, cannot stop at the end and fails WCAG 2.2.1): every 2 s the page is fetched again and the
// card marked data-job-status replaced; when the server answers with another page (an import's
// preview), the browser goes there. Without this file the "Reload" link does the same.
(function () {
  "use strict";
  var card = document.querySelector("[data-job-status]");
  if (!card || card.hasAttribute("data-finished")) {
    return;
  }
  var here = new URL(card.getAttribute("data-job-status"), window.location.href);

  function later(ms) {
    window.setTimeout(poll, ms);
  }

  function poll() {
    window.fetch(here.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (response.redirected && new URL(response.url).pathname !== here.pathname) {
          window.location.assign(response.url);  // the preview (or the log-in page) takes over
          return null;
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-job-status]");
        if (!fresh) {
          return;
        }
        card.innerHTML = fresh.innerHTML;
        if (!fresh.hasAttribute("data-finished")) {
          later(2000);
        }
      })
      .catch(function () {
        later(5000);  // the server is away for a moment: keep the page, try again a little later
      });
  }

  later(2000);
}());
