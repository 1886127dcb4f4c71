// frontdesk agent page: live updates over Server-Sent Events, presence, keyboard.
// No inline script anywhere: the Content-Security-Policy allows scripts from here only.
"use strict";
(function () {
  var csrf = document.body.getAttribute("data-csrf") || "";
  var page = document.querySelector(".ticket-page");
  var ticket = page ? page.getAttribute("data-ticket") : null;
  var typing = false;
  var lastPresence = [];

  function refreshMain() {
    // Keep what the agent is typing: only refresh a ticket page when its forms are empty.
    var busy = Array.prototype.some.call(document.querySelectorAll("textarea"), function (t) { return t.value !== ""; }) ||
      Array.prototype.some.call(document.querySelectorAll("input[type=file]"), function (f) { return f.files && f.files.length > 0; });
    if (busy) { return; }
    fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("main");
      if (fresh) { document.getElementById("main").replaceWith(fresh); localTimes(fresh); showPresence(lastPresence); }
    });
  }

  // Times come in UTC; show them in the agent's own zone and language.
  function localTimes(root) {
    if (!window.Intl || !Intl.DateTimeFormat) { return; }
    var fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    Array.prototype.forEach.call(root.querySelectorAll("time[datetime]"), function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d.getTime())) { el.textContent = fmt.format(d); }
    });
  }

  function showPresence(list) {
    lastPresence = list;
    var el = document.getElementById("presence");
    if (!el) { return; }
    var others = list.filter(function (p) { return !p.me; });
    el.textContent = others.map(function (p) { return p.name + (p.replying ? " is replying" : " is viewing"); }).join("; ");
  }

  if (window.EventSource) {
    var source = new EventSource("/events" + (ticket ? "?ticket=" + encodeURIComponent(ticket) : ""));
    source.addEventListener("ticket", function (e) {
      if (!ticket || e.data === ticket) { refreshMain(); }
    });
    source.addEventListener("presence", function (e) {
      try { showPresence(JSON.parse(e.data)); } catch (err) { /* ignore malformed */ }
    });
  }

  document.addEventListener("focusin", function (e) {
    if (ticket && !typing && e.target && e.target.id === "reply-body") {
      typing = true;
      fetch("/tickets/" + ticket + "/replying", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } });
    }
  });

  // Live preview of the reply as the customer will get it: the From line and the
  // signature come rendered from the server; the text, quote and files follow the form.
  // textContent only: what the agent types is never parsed as HTML.
  function updatePreview() {
    var body = document.getElementById("reply-body");
    var out = document.getElementById("body-preview");
    if (!body || !out) { return; }
    out.textContent = body.value;
    var quote = document.getElementById("reply-quote");
    var q = document.getElementById("quote-preview");
    if (q) { q.hidden = !(quote && quote.checked); }
    var files = document.getElementById("reply-files");
    var list = document.getElementById("files-preview");
    if (list) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      Array.prototype.forEach.call((files && files.files) || [], function (f) {
        var li = document.createElement("li");
        li.textContent = f.name + " (" + f.size + " bytes)";
        list.appendChild(li);
      });
    }
  }
  document.addEventListener("input", function (e) {
    if (e.target && e.target.id === "reply-body") { updatePreview(); }
  });
  document.addEventListener("change", function (e) {
    if (e.target && (e.target.id === "reply-quote" || e.target.id === "reply-files")) { updatePreview(); }
  });

  localTimes(document);

  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
    if (e.key === "/") { var s = document.querySelector("header .search input"); if (s) { e.preventDefault(); s.focus(); } }
    if (e.key === "r" && ticket) { var r = document.getElementById("reply-body"); if (r) { e.preventDefault(); r.focus(); } }
  });
})();
