// A "Show" button beside each password box, for people typing on small phone keyboards.
// Progressive enhancement: without this file the boxes work as plain password fields.
(function () {
  "use strict";
  var html = document.documentElement;
  var show = html.lang === "en" ? "Show" : "Hiện";
  var hide = html.lang === "en" ? "Hide" : "Ẩn";
  document.querySelectorAll('input[type="password"]').forEach(function (input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary password-toggle";
    button.textContent = show;
    button.setAttribute("aria-controls", input.id);
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", function () {
      var hidden = input.type === "password";
      input.type = hidden ? "text" : "password";
      button.textContent = hidden ? hide : show;
      button.setAttribute("aria-pressed", hidden ? "true" : "false");
    });
    input.insertAdjacentElement("afterend", button);
  });
})();
