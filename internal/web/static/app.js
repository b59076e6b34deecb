// Reseller Console: small enhancements. Every page works without this file.
(function () {
  "use strict";
  var root = document.documentElement;

  // Tell the server the browser's time zone, so that it renders times in
  // it. If this page was rendered in another zone (and the user has not
  // pinned one in settings), reload it once with the cookie set.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) {
      var secure = location.protocol === "https:" ? "; secure" : "";
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax" + secure;
      var shown = root.getAttribute("data-tz");
      var key = "tz-reloaded:" + location.pathname + location.search;
      if (!root.hasAttribute("data-tz-pinned") && shown && shown !== zone &&
          document.getElementById("tzline") && !sessionStorage.getItem(key)) {
        sessionStorage.setItem(key, "1");
        location.reload();
        return;
      }
    }
  } catch (e) { /* no Intl or no storage: times stay in the zone the server chose */ }

  document.addEventListener("DOMContentLoaded", function () {
    // The custom dates of the audit filter matter only for "Custom range".
    var preset = document.querySelector("[data-preset]");
    var custom = document.querySelector("[data-custom-range]");
    if (preset && custom) {
      var sync = function () { custom.hidden = preset.value !== "custom"; };
      preset.addEventListener("change", function () {
        sync();
        if (preset.value === "custom") { var f = document.getElementById("from"); if (f) f.focus(); }
      });
      sync();
    }

    // GET filter forms: leave empty fields out of the URL, so that shared
    // links stay short.
    document.querySelectorAll("form[method=get]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("input, select").forEach(function (el) {
          if (el.name && !el.value && el.type !== "checkbox" && el.type !== "radio") el.disabled = true;
        });
        var desc = form.querySelector("input[name=order][value=desc]");
        if (desc && desc.checked) desc.disabled = true;
      });
    });

    // Copy buttons for one-time secrets.
    document.querySelectorAll("[data-copy]").forEach(function (btn) {
      var input = document.getElementById(btn.getAttribute("data-copy"));
      if (!input || !navigator.clipboard) return;
      btn.hidden = false;
      btn.addEventListener("click", function () {
        navigator.clipboard.writeText(input.value).then(function () {
          btn.textContent = "Copied";
          setTimeout(function () { btn.textContent = "Copy"; }, 2000);
        });
      });
    });
    document.querySelectorAll("[data-select-on-focus]").forEach(function (el) {
      el.addEventListener("focus", function () { el.select(); });
    });

    // The chart's bars open their period for a pointer; they are no links
    // (a graphic holds no tab stops): the table under the chart has those.
    document.querySelectorAll(".chart [data-href]").forEach(function (bar) {
      bar.addEventListener("click", function () { location.href = bar.getAttribute("data-href"); });
    });

    // Print button of the audit log's print view.
    document.querySelectorAll("[data-print]").forEach(function (btn) {
      btn.hidden = false;
      btn.addEventListener("click", function () { window.print(); });
    });
  });
})();
