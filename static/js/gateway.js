// Progressive enhancement only: every page works without this file.
// The navigation's drop-down menus (<details>) close with Escape, on a click elsewhere and
// when the keyboard focus leaves them, as menus do.
(function () {
  "use strict";
  var menus = document.querySelectorAll(".main-nav details");
  function closeAll(except) {
    menus.forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    // The phone's menu (a checkbox without this script) folds again too.
    var toggle = document.getElementById("main-nav-toggle");
    if (toggle && toggle.checked && toggle.offsetParent !== null) {
      toggle.checked = false;
      toggle.focus();
    }
    menus.forEach(function (menu) {
      if (menu.open) {
        menu.removeAttribute("open");
        menu.querySelector("summary").focus();
      }
    });
  });
  document.addEventListener("click", function (event) {
    closeAll(event.target.closest(".main-nav details"));
  });
  menus.forEach(function (menu) {
    menu.addEventListener("focusout", function (event) {
      if (!menu.contains(event.relatedTarget)) menu.removeAttribute("open");
    });
  });
  // After a failed submit, take the keyboard to the summary of what is wrong.
  var errors = document.querySelector(".form-errors");
  if (errors) {
    errors.setAttribute("tabindex", "-1");
    errors.focus();
    // Each error in the summary links to its field (#id_…): without this script the browser
    // scrolls there; with it, the field takes the focus too, its label or legend in view.
    errors.querySelectorAll("a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (!target) return;
        event.preventDefault();
        var group = target.closest("fieldset.field, .field") || target;
        group.scrollIntoView({ block: "start" });
        target.focus({ preventScroll: true });
      });
    });
  }
  // The institution chooser narrows its list while the reader types (the search button
  // does the same on the server without this script).
  document.querySelectorAll("input[data-filter-list]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("data-filter-list"));
    if (!list) return;
    input.addEventListener("input", function () {
      var query = input.value.trim().toLowerCase();
      list.querySelectorAll("li[data-search]").forEach(function (item) {
        item.hidden = query !== "" && item.getAttribute("data-search").indexOf(query) === -1;
      });
    });
  });
  // The receipt's print button (without this script the browser's own Print does it).
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
