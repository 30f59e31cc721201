/* 好商量's small page touches; every page works without them (progressive).

   - A wide table in a .table-scroll box: when it is wider than the screen, the box is
     marked .overflowing (a shadow at the edge and the hint 左右滑动查看 are shown), and
     .at-end once scrolled to its end.
   - 显示密码: a checkbox that shows the form's password fields as text.
   - 更多意见 / 更多办理经过: the next page replaces the button's own item; the first new
     item takes the focus, so keyboard and screen-reader users go on from there. */
(function () {
  "use strict";
  function markTables() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      var overflowing = box.scrollWidth > box.clientWidth + 1;
      box.classList.toggle("overflowing", overflowing);
      box.classList.toggle("at-end", box.scrollLeft + box.clientWidth >= box.scrollWidth - 1);
      var hint = box.previousElementSibling;
      if (!hint || !hint.classList.contains("scroll-hint")) {
        hint = document.createElement("p");
        hint.className = "scroll-hint";
        hint.textContent = "左右滑动查看 →";
        box.parentNode.insertBefore(hint, box);
        box.addEventListener("scroll", function () {
          box.classList.toggle("at-end", box.scrollLeft + box.clientWidth >= box.scrollWidth - 1);
        }, { passive: true });
      }
      hint.hidden = !overflowing;
    });
  }
  function passwords() {
    document.querySelectorAll("[data-show-passwords]").forEach(function (box) {
      var label = box.closest("label");
      if (label) label.hidden = false;
      box.addEventListener("change", function () {
        box.form.querySelectorAll("input[type=password], input[data-was-password]").forEach(function (field) {
          field.setAttribute("data-was-password", "");
          field.type = box.checked ? "text" : "password";
        });
      });
    });
  }
  function morePages() {
    var before = null;
    document.body.addEventListener("htmx:beforeSwap", function (e) {
      var target = e.detail.target;
      before = target && target.matches("li.more") ? target.previousElementSibling : null;
    });
    document.body.addEventListener("htmx:afterSettle", function () {
      var first = before && before.nextElementSibling;
      before = null;
      if (!first) return;
      first.setAttribute("tabindex", "-1");
      first.focus({ preventScroll: true });
    });
  }
  function ready() {
    markTables();
    passwords();
    morePages();
    window.addEventListener("resize", markTables);
    document.body.addEventListener("htmx:afterSettle", markTables);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
