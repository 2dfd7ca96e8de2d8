/* The console's keyboard shortcuts (issue 17). The list is in the help overlay (「?」, rendered
   by templates/staff/_shortcuts.html from the same menu the keys come from) and in the README:
     /        the search box            j / k   next / previous row of the page's list
     Enter    open the selected row     g <key> a page of the menu (data-key on its link)
     ?        the help overlay          Esc     close it, or drop the row selection
   Nothing fires while typing in a field (input, textarea, select, contenteditable) or with
   Ctrl/Alt/Meta held, so the browser's own shortcuts are left alone. */
(function () {
  "use strict";
  var overlay = document.getElementById("shortcuts");
  var pendingG = false, pendingTimer = null, current = -1;

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  // The rows of the page's main list: table rows (or cards) that link somewhere.
  function rows() {
    return Array.prototype.filter.call(
      document.querySelectorAll("main table tbody tr"),
      function (row) { return row.querySelector("a[href]") && row.offsetParent !== null; });
  }

  function select(index) {
    var list = rows();
    if (!list.length) return;
    index = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (row) { row.classList.remove("kbd-current"); row.removeAttribute("aria-selected"); });
    current = index;
    list[index].classList.add("kbd-current");
    list[index].setAttribute("aria-selected", "true");
    list[index].scrollIntoView({block: "nearest"});
  }

  function clearSelection() {
    rows().forEach(function (row) { row.classList.remove("kbd-current"); row.removeAttribute("aria-selected"); });
    current = -1;
  }

  function openHelp() { if (overlay) { overlay.hidden = false; overlay.querySelector("[data-shortcuts-close]").focus(); } }
  function closeHelp() { if (overlay) overlay.hidden = true; }
  function helpOpen() { return overlay && !overlay.hidden; }

  function go(key) {
    var link = document.querySelector('nav.sections a[data-key="' + key + '"]');
    if (link) window.location.assign(link.href);
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (e.key === "Escape") {
      if (helpOpen()) { e.preventDefault(); closeHelp(); return; }
      if (current >= 0) { clearSelection(); }
      return;
    }
    if (typing(e.target)) return;
    if (pendingG) {
      pendingG = false;
      clearTimeout(pendingTimer);
      if (/^[a-z]$/.test(e.key)) { e.preventDefault(); go(e.key); }
      return;
    }
    if (helpOpen() && e.key !== "?") return;
    switch (e.key) {
      case "/": {
        var q = document.querySelector(".topbar input[name=q]");
        if (q) { e.preventDefault(); q.focus(); q.select(); }
        break;
      }
      case "?": e.preventDefault(); if (helpOpen()) { closeHelp(); } else { openHelp(); } break;
      case "g": pendingG = true; pendingTimer = setTimeout(function () { pendingG = false; }, 1500); break;
      case "j": e.preventDefault(); select(current + 1); break;
      case "k": e.preventDefault(); select(current < 0 ? 0 : current - 1); break;
      case "Enter": {
        if (current < 0 || (e.target && e.target.tagName === "A") || (e.target && e.target.tagName === "BUTTON")) return;
        var row = rows()[current];
        var link = row && row.querySelector("a[href]");
        if (link) { e.preventDefault(); link.click(); }
        break;
      }
      default: break;
    }
  });

  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-shortcuts-open]")) { openHelp(); }
    else if (e.target.closest("[data-shortcuts-close]") || e.target === overlay) { closeHelp(); }
  });
})();
