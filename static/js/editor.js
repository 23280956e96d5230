// Course editor: live preview through the server renderer, and drag-and-drop upload.
// Progressive enhancement: without this file the Preview and Upload buttons do the same.
(function () {
  "use strict";

  function csrfToken(element) {
    var form = element.form || document.querySelector("form");
    var input = form && form.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function setStatus(textarea, message) {
    var status = document.getElementById(textarea.id + "-status");
    if (status) { status.textContent = message; }
  }

  function preview(textarea) {
    var target = document.getElementById(textarea.dataset.previewTarget);
    if (!target) { return; }
    fetch(textarea.dataset.previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken(textarea)},
      body: JSON.stringify({markdown: textarea.value, slug: textarea.dataset.slug, module: textarea.dataset.module,
                            depth: Number(textarea.dataset.depth || 1)})
    }).then(function (response) { return response.json(); }).then(function (data) {
      // Sanitised on the server by the same allowlist as every lesson page.
      if (typeof data.html === "string") { target.innerHTML = data.html; }
    }).catch(function () { /* the Preview button still works */ });
  }

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart || textarea.value.length;
    var end = textarea.selectionEnd || start;
    textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
    textarea.selectionStart = textarea.selectionEnd = start + text.length;
    textarea.dispatchEvent(new Event("input"));
  }

  function upload(textarea, file) {
    var data = new FormData();
    data.append("file", file);
    data.append("csrf_token", csrfToken(textarea));
    setStatus(textarea, "… " + file.name);
    fetch(textarea.dataset.uploadUrl, {method: "POST", credentials: "same-origin", headers: {"Accept": "application/json"}, body: data})
      .then(function (response) { return response.json(); })
      .then(function (result) {
        if (result.markdown) { insertAtCursor(textarea, "\n" + result.markdown + "\n"); setStatus(textarea, "✓ " + result.name); }
        else { setStatus(textarea, result.message || "✗"); }
      })
      .catch(function () { setStatus(textarea, "✗ " + file.name); });
  }

  document.querySelectorAll("textarea[data-preview-url]").forEach(function (textarea) {
    var timer = null;
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { preview(textarea); }, 400);
    });
    textarea.addEventListener("dragover", function (event) { event.preventDefault(); textarea.classList.add("dragging"); });
    textarea.addEventListener("dragleave", function () { textarea.classList.remove("dragging"); });
    textarea.addEventListener("drop", function (event) {
      textarea.classList.remove("dragging");
      if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
      event.preventDefault();
      Array.prototype.forEach.call(event.dataTransfer.files, function (file) { upload(textarea, file); });
    });
  });
}());
