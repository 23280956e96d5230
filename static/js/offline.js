/* "Download for offline" on a course page and the list of /offline (issue 16; docs/phones.md, "Offline").
   Loaded on those two pages only. The service worker (/sw.js) does the rest: answering from the stored
   copies, queueing "done" pressed without a network, emptying the copies at log-in and log-out.
   A course's copy is the cache "lms-course-<slug>"; what was downloaded is listed in localStorage. */
(function () {
  "use strict";
  var COURSES = "lms-offline-courses";
  function read(key, empty) { try { return JSON.parse(localStorage.getItem(key)) || empty; } catch (e) { return empty; } }
  function write(key, value) { localStorage.setItem(key, JSON.stringify(value)); }
  function $(selector) { return document.querySelector(selector); }
  function say(node, text) { if (node) node.textContent = text; }
  function kb(bytes) { return Math.max(1, Math.round(bytes / 1024)) + " KB"; }
  function courseBox(box) {
    var slug = box.getAttribute("data-slug"), status = box.querySelector("[role=status]");
    var get = box.querySelector("[data-action=download]"), drop = box.querySelector("[data-action=remove]");
    function show() {
      var mine = read(COURSES, {})[slug];
      drop.hidden = !mine;
      say(box.querySelector(".offline-state"), mine ? box.getAttribute("data-stored").replace("{size}", kb(mine.bytes)) : "");
    }
    function store(manifest) {
      say(status, box.getAttribute("data-working"));
      var requests = manifest.urls.map(function (url) { return new Request(url, { headers: { "X-Offline-Copy": "1" } }); });
      return caches.delete("lms-course-" + slug)
        .then(function () { return caches.open("lms-course-" + slug); })
        .then(function (cache) { return cache.addAll(requests); })
        .then(function () {
          var all = read(COURSES, {});
          all[slug] = { title: manifest.title, url: manifest.urls[0], version: manifest.version, bytes: manifest.bytes,
                        lessons: manifest.lessons, at: new Date().toISOString() };
          write(COURSES, all); show(); say(status, box.getAttribute("data-done"));
        }, function () { say(status, box.getAttribute("data-failed")); });
    }
    fetch(box.getAttribute("data-manifest"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (manifest) {
        box.hidden = false;
        say(box.querySelector(".offline-size"), box.getAttribute("data-size").replace("{size}", kb(manifest.bytes))
          .replace("{n}", manifest.lessons.length));
        show();
        var mine = read(COURSES, {})[slug];
        if (mine && mine.version !== manifest.version) store(manifest);  // the course changed: fetch it again
        get.onclick = function () { store(manifest); };
        drop.onclick = function () {
          caches.delete("lms-course-" + slug).then(function () {
            var all = read(COURSES, {}); delete all[slug]; write(COURSES, all); show();
            say(status, box.getAttribute("data-removed"));
          });
        };
      }, function () { /* offline: the box stays hidden */ });
  }
  var box = $("#offline-course");
  if (box && window.caches) courseBox(box);

  function drawList(list, names) {
    var courses = read(COURSES, {}), slugs = Object.keys(courses).filter(function (slug) {
      return names.indexOf("lms-course-" + slug) >= 0;
    });
    slugs.forEach(function (slug) {
      var item = document.createElement("li"), link = document.createElement("a"), lessons = document.createElement("ol");
      link.href = courses[slug].url; link.textContent = courses[slug].title; item.appendChild(link);
      courses[slug].lessons.forEach(function (lesson) {
        var li = document.createElement("li"), a = document.createElement("a");
        a.href = lesson.url; a.textContent = lesson.title; li.appendChild(a); lessons.appendChild(li);
      });
      item.appendChild(lessons); list.appendChild(item);
    });
    $("#offline-none").hidden = slugs.length > 0;
  }
  var list = $("#offline-list");
  if (list && window.caches) caches.keys().then(function (names) { drawList(list, names); });

})();
