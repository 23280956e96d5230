// Enhances the commune picker: as the person types, matching communes fill the list.
// Without JavaScript the "Search" button does the same through the server.
(function () {
  "use strict";
  var input = document.querySelector("[data-picker-source]");
  if (!input) return;
  var select = document.getElementById(input.getAttribute("data-picker-target"));
  var source = input.getAttribute("data-picker-source");
  var timer = null;
  var latest = 0;

  function fill(results) {
    var placeholder = select.options[0];
    var current = select.value;
    while (select.options.length > 1) select.remove(1);
    results.forEach(function (item) {
      var label = item.label + (item.former ? " (" + item.former + ")" : "");
      select.add(new Option(label, item.id, false, String(item.id) === current));
    });
    if (results.length && !select.value) select.selectedIndex = 1;
    placeholder.selected = !results.length;
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    var query = input.value.trim();
    if (query.length < 2) return;
    timer = setTimeout(function () {
      var request = ++latest;
      fetch(source + "?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (results) { if (request === latest && results.length) fill(results); })
        .catch(function () { /* the Search button still works */ });
    }, 250);
  });
  input.addEventListener("keydown", function (event) {
    // Enter in the search box searches instead of submitting the whole form.
    if (event.key === "Enter") {
      event.preventDefault();
      input.dispatchEvent(new Event("input"));
    }
  });
})();
