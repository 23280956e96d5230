// The import's status page follows its job by itself, without a meta refresh (which reloads the
// whole page, moves the reader back to the top and cannot stop at the end): every 2 s the page is
// fetched again and the card replaced; when the server answers with another page (the file was
// checked: the preview), the browser goes there. Without this file the "Reload" link does the same.
(function () {
  "use strict";
  var card = document.querySelector("[data-import-status]");
  if (!card || card.hasAttribute("data-finished")) {
    return;
  }
  var here = new URL(card.getAttribute("data-import-status"), window.location.href);

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
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-import-status]");
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
