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
    var busy = Array.prototype.some.call(document.querySelectorAll("textarea"), function (t) { return t.value !== ""; });
    if (busy) { return; }
    fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("main");
      if (fresh) { document.getElementById("main").replaceWith(fresh); showPresence(lastPresence); }
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

  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
    if (e.key === "/") { var s = document.querySelector("header .search input"); if (s) { e.preventDefault(); s.focus(); } }
    if (e.key === "r" && ticket) { var r = document.getElementById("reply-body"); if (r) { e.preventDefault(); r.focus(); } }
  });
})();
