// frontdesk agent page: live updates over Server-Sent Events, presence, keyboard.
// No inline script anywhere: the Content-Security-Policy allows scripts from here only.
"use strict";
(function () {
  var csrf = document.body.getAttribute("data-csrf") || "";
  var page = document.querySelector(".ticket-page");
  var ticket = page ? page.getAttribute("data-ticket") : null;
  var typing = false;
  var lastPresence = [];
  // The main part as the server last sent it (before this script touched it): a
  // refresh that brings the same is not put in, so focus and scroll stay.
  var mainNow = document.getElementById("main");
  var served = mainNow ? mainNow.outerHTML : "";

  function refreshMain() {
    // Keep what the agent is typing: only refresh a ticket page when its forms are empty.
    var busy = Array.prototype.some.call(document.querySelectorAll("textarea"), function (t) { return t.value !== ""; }) ||
      Array.prototype.some.call(document.querySelectorAll("input[type=file]"), function (f) { return f.files && f.files.length > 0; });
    if (busy) { return; }
    fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("main");
      if (fresh && fresh.outerHTML !== served) {
        served = fresh.outerHTML;
        // Ticks in the bulk form's boxes survive the refresh.
        var ticked = checkedTickets();
        var before = document.getElementById("main");
        announceNews(before, fresh);
        before.replaceWith(fresh);
        Array.prototype.forEach.call(fresh.querySelectorAll("input[name=ticket]"), function (box) {
          box.checked = ticked.indexOf(box.value) >= 0;
        });
        bulkState();
        localTimes(fresh);
        dueBadges(fresh);
        savedCounts(fresh);
        showPresence(lastPresence);
      }
    });
  }

  // The saved views' counts come after the page (each is a walk of the desk's
  // tickets): filled in where the page has places for them.
  function savedCounts(root) {
    var places = root.querySelectorAll("[data-saved-view]");
    if (!places.length) { return; }
    fetch("/views/counts", { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : {};
    }).then(function (counts) {
      Array.prototype.forEach.call(places, function (place) {
        var n = counts[place.getAttribute("data-saved-view")];
        if (typeof n === "number") { place.textContent = String(n); }
      });
    }).catch(function () { /* the names stay without counts */ });
  }
  savedCounts(document);

  // What a live refresh brought, read out by a screen reader (the page changes under
  // its reading without a word otherwise): tickets new to the list, messages and notes
  // new to the thread.
  function announceNews(before, after) {
    var said = [];
    function ids(root, css, key) {
      var had = {};
      Array.prototype.forEach.call(root.querySelectorAll(css), function (e) { had[key(e)] = true; });
      return had;
    }
    var rowKey = function (r) { return r.getAttribute("data-ticket"); };
    var rows = ids(before, "tr.ticket[data-ticket]", rowKey);
    Array.prototype.forEach.call(after.querySelectorAll("tr.ticket[data-ticket]"), function (r) {
      if (rows[rowKey(r)]) { return; }
      var link = r.querySelector("td a");
      var subject = link ? link.cloneNode(true) : document.createElement("a");
      Array.prototype.forEach.call(subject.querySelectorAll(".new"), function (mark) { mark.remove(); });
      said.push("New in this list: #" + rowKey(r) + " " + subject.textContent.trim());
    });
    var idKey = function (m) { return m.id; };
    var messages = ids(before, "article.message[id]", idKey);
    Array.prototype.forEach.call(after.querySelectorAll("article.message[id]"), function (m) {
      if (messages[idKey(m)]) { return; }
      var who = m.querySelector("header strong");
      // The name alone when there is one ("Olga <olga@…>" reads out long).
      var name = who ? who.textContent.replace(/\s*<[^<>]*>\s*$/, "").trim() || who.textContent.trim() : "someone";
      said.push((m.classList.contains("note") ? "New note from " : "New message from ") + name);
    });
    var live = document.getElementById("announce");
    if (live && said.length) { live.textContent = said.join(". ") + "."; }
  }

  // The inbox's bulk form: how many are ticked, and nothing to apply to none.
  function checkedTickets() {
    return Array.prototype.map.call(document.querySelectorAll("input[name=ticket]:checked"), function (b) { return b.value; });
  }
  function bulkState() {
    var n = checkedTickets().length;
    var count = document.getElementById("bulk-count");
    if (count) { count.textContent = n === 0 ? "none selected" : n + " selected"; }
    var apply = document.getElementById("bulk-apply");
    if (apply) { apply.disabled = n === 0; }
    var spam = document.getElementById("bulk-spam");
    if (spam) { spam.disabled = n === 0; }
    var all = document.getElementById("select-all");
    var boxes = document.querySelectorAll("input[name=ticket]");
    if (all) { all.checked = n > 0 && n === boxes.length; all.indeterminate = n > 0 && n < boxes.length; }
  }
  document.addEventListener("change", function (e) {
    if (!e.target) { return; }
    if (e.target.id === "select-all") {
      Array.prototype.forEach.call(document.querySelectorAll("input[name=ticket]"), function (b) { b.checked = e.target.checked; });
    }
    if (e.target.id === "select-all" || e.target.name === "ticket") { bulkState(); }
  });
  bulkState();

  // Reports count days in the agent's clock: the server is told its zone (and the
  // minutes east of UTC, for a browser that names no zone or a zone the server does
  // not know) once, and the period links carry it on.
  var report = document.querySelector("section.reports[data-clock]");
  if (report) {
    var here = new URL(window.location.href);
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
    var tz = String(-new Date().getTimezoneOffset());
    var asked = here.searchParams.get("zone") || "";
    if (asked !== zone || (!zone && here.searchParams.get("tz") !== tz)) {
      if (zone) { here.searchParams.set("zone", zone); } else { here.searchParams.delete("zone"); }
      here.searchParams.set("tz", tz);
      window.location.replace(here.toString());
    }
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

  // An answer's due time moves on with the clock, not only when something is written:
  // each minute the badges say it anew ("answer due in 5 min" turns into "answer
  // overdue by 1 min"), in the words and marks the server uses.
  function spanWords(s) {
    s = Math.max(0, Math.floor(s));
    if (s < 60) { return s + " s"; }
    if (s < 3600) { return Math.floor(s / 60) + " min"; }
    if (s < 86400) {
      var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
      return m ? h + " h " + m + " min" : h + " h";
    }
    var d = Math.floor(s / 86400), hh = Math.floor(s % 86400 / 3600);
    return hh ? d + " d " + hh + " h" : d + " d";
  }
  function dueBadges(root) {
    var now = Date.now() / 1000;
    Array.prototype.forEach.call(root.querySelectorAll(".answer-due[data-due]"), function (el) {
      var due = Number(el.getAttribute("data-due"));
      if (!isFinite(due)) { return; }
      var late = due <= now;
      el.textContent = late ? "answer overdue by " + spanWords(now - due) : "answer due in " + spanWords(due - now);
      el.classList.toggle("late", late);
      el.classList.toggle("soon", !late && due - now <= 3600);
      el.classList.toggle("later", !late && due - now > 3600);
    });
  }
  setInterval(function () { dueBadges(document); }, 10000);

  function showPresence(list) {
    lastPresence = list;
    var el = document.getElementById("presence");
    if (!el) { return; }
    var others = list.filter(function (p) { return !p.me; });
    el.textContent = others.map(function (p) { return p.name + (p.replying ? " is replying" : " is viewing"); }).join("; ");
  }

  // Whether the page is live. A lost stream says so until it is back; a session that
  // ended says so, with a way to sign in again, instead of a page that quietly stops
  // changing.
  function connection(text, signIn) {
    var el = document.getElementById("connection");
    if (!el) { return; }
    el.textContent = text;
    if (signIn) {
      var again = document.createElement("a");
      again.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      again.textContent = "Sign in again";
      el.appendChild(document.createTextNode(" "));
      el.appendChild(again);
    }
    el.hidden = text === "";
  }
  var LOST = "The connection to the desk is lost: this page is not live. Trying again…";
  function signedOut() {
    connection("You are signed out (signed out elsewhere, a password change, or idle too long): this page is not live.", true);
  }

  function listen() {
    var source = new EventSource("/events" + (ticket ? "?ticket=" + encodeURIComponent(ticket) : ""));
    // A change that landed between this page's render and the stream's start (or
    // while the stream was down) told no one: look once more whenever it opens.
    source.addEventListener("open", function () { connection(""); refreshMain(); });
    source.addEventListener("ticket", function (e) {
      if (!ticket || e.data === ticket) { refreshMain(); }
    });
    source.addEventListener("presence", function (e) {
      try { showPresence(JSON.parse(e.data)); } catch (err) { /* ignore malformed */ }
    });
    source.addEventListener("notice", function (e) {
      var n;
      try { n = JSON.parse(e.data); } catch (err) { return; }
      showNotice(n);
    });
    source.addEventListener("signed-out", function () { source.close(); signedOut(); });
    source.addEventListener("error", function () {
      // The browser tries again by itself after a dropped connection.
      if (source.readyState === EventSource.CONNECTING) { connection(LOST); return; }
      // The desk refused the stream, and the browser gave up: find out why.
      source.close();
      fetch("/me", { credentials: "same-origin", redirect: "manual" }).then(function (r) {
        if (r.type === "opaqueredirect" || r.status === 401) { signedOut(); return; }
        connection(LOST);
        setTimeout(listen, 5000);
      }, function () {
        connection(LOST);
        setTimeout(listen, 5000);
      });
    });
  }
  if (window.EventSource) { listen(); }

  // Desktop notifications: what the agent would be mailed about (the kinds ticked on
  // their account page), on their screen at once while the desk is open in a tab.
  // Every open tab passes the notice to the service worker, which sees all the tabs:
  // it shows nothing for a ticket the agent has on screen in any of them, and the
  // tag makes the screen show the others once. A click on one opens the ticket even
  // once the tab is gone.
  function canNotify() {
    return "Notification" in window && "serviceWorker" in navigator && window.isSecureContext;
  }
  // Registered once per page: each register() queues behind the browser's own update
  // check of the worker (run after every navigation), and a notice waiting on that
  // could wait for ever on a loaded machine. Notices go to the worker that is active.
  var registering = null;
  function notifier() {
    if (!registering) {
      registering = navigator.serviceWorker.register("/notify-worker.js");
      registering.catch(function () { registering = null; });
    }
    return navigator.serviceWorker.ready;
  }
  function showNotice(n) {
    if (!canNotify() || Notification.permission !== "granted") { return; }
    notifier().then(function (reg) {
      reg.active.postMessage({ notice: { id: n.id, title: n.title, body: n.body, url: n.url } });
    }).catch(function () { /* the browser refused: mail still tells them */ });
  }
  function desktopState() {
    var state = document.getElementById("desktop-state");
    var button = document.getElementById("desktop-on");
    if (!state || !button) { return; }
    button.hidden = true;
    if (!("Notification" in window) || !("serviceWorker" in navigator)) {
      state.textContent = "This browser cannot show them.";
    } else if (!window.isSecureContext) {
      state.textContent = "Browsers show them only for a desk reached over HTTPS (or on the computer it runs on).";
    } else if (Notification.permission === "granted") {
      state.textContent = "On in this browser: while the desk is open in a tab, what you ticked above shows on this screen.";
    } else if (Notification.permission === "denied") {
      state.textContent = "This browser blocks them for the desk: allow notifications in its settings for this site to have them.";
    } else {
      state.textContent = "Off in this browser.";
      button.hidden = false;
    }
  }
  document.addEventListener("click", function (e) {
    if (!e.target || e.target.id !== "desktop-on" || !canNotify()) { return; }
    Notification.requestPermission().then(function (answer) {
      if (answer === "granted") { notifier(); }
      desktopState();
    });
  });
  desktopState();
  if (canNotify() && Notification.permission === "granted") { notifier().catch(function () {}); }

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
    // The new-ticket form's To and Subject lines.
    ["new-to", "new-subject"].forEach(function (id) {
      var typed = document.getElementById(id);
      var line = document.getElementById(id === "new-to" ? "to-preview" : "subject-preview");
      if (typed && line) { line.textContent = typed.value.trim(); }
    });
    var body = document.getElementById("reply-body");
    var out = document.getElementById("body-preview");
    if (!body || !out) { return; }
    out.textContent = body.value;
    var cc = document.getElementById("reply-cc");
    var ccLine = document.getElementById("cc-line");
    var ccPreview = document.getElementById("cc-preview");
    if (cc && ccLine && ccPreview) {
      ccPreview.textContent = cc.value.trim();
      ccLine.hidden = cc.value.trim() === "";
    }
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
    var id = e.target && e.target.id;
    if (id === "reply-body" || id === "reply-cc" || id === "new-to" || id === "new-subject") { updatePreview(); }
  });
  // The new-ticket form: the From line and signature of the channel picked.
  function showChannel(picked) {
    Array.prototype.forEach.call(document.querySelectorAll(".channel-preview"), function (el) {
      el.hidden = el.getAttribute("data-channel") !== picked;
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target && (e.target.id === "reply-quote" || e.target.id === "reply-files")) { updatePreview(); }
    if (e.target && e.target.id === "snippet-pick") { insertSnippet(e.target); }
    if (e.target && e.target.id === "new-channel") { showChannel(e.target.value); }
  });

  // A picture pasted into a reply or note box (a screenshot) is attached to that form as a
  // file, named for the moment it was pasted (browsers call every one "image.png").
  document.addEventListener("paste", function (e) {
    var box = e.target;
    if (!box || (box.id !== "reply-body" && box.id !== "note-body") || !box.form) { return; }
    var pasted = (e.clipboardData && e.clipboardData.files) || [];
    var images = Array.prototype.filter.call(pasted, function (f) { return f.type.indexOf("image/") === 0; });
    var input = box.form.querySelector("input[type=file]");
    if (!images.length || !input || typeof DataTransfer === "undefined") { return; }
    e.preventDefault();
    var files = new DataTransfer();
    var taken = {};
    Array.prototype.forEach.call(input.files, function (f) { files.items.add(f); taken[f.name] = true; });
    var stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
    images.forEach(function (f) {
      var kind = (f.type.split("/")[1] || "png").replace(/[^a-z0-9]/g, "");
      var name = "screenshot-" + stamp + "." + kind;
      for (var n = 2; taken[name]; n++) { name = "screenshot-" + stamp + "-" + n + "." + kind; }
      taken[name] = true;
      files.items.add(new File([f], name, { type: f.type }));
    });
    input.files = files.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // A snippet goes in where the cursor was (at the end when the box was never used);
  // the box then behaves as if it had been typed (preview, draft).
  function insertSnippet(menu) {
    var option = menu.options[menu.selectedIndex];
    var body = document.getElementById("reply-body");
    var text = option ? option.getAttribute("data-text") : null;
    menu.selectedIndex = 0;
    if (!body || text === null) { return; }
    var at = typeof body.selectionStart === "number" ? body.selectionStart : body.value.length;
    var end = typeof body.selectionEnd === "number" ? body.selectionEnd : at;
    body.value = body.value.slice(0, at) + text + body.value.slice(end);
    body.focus();
    body.selectionStart = body.selectionEnd = at + text.length;
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }

  localTimes(document);
  dueBadges(document);

  // Drafts: what an agent types in a ticket's reply or note box, or in the new-ticket
  // form, is kept in this browser until it is sent, so a closed tab or a crash loses
  // nothing. Signing out forgets them.
  var DRAFT = "fd-draft:";
  var opening = document.querySelector("form.new-ticket");
  var draftScope = ticket || (opening ? "new" : null);
  var DRAFTED = opening ? ["new-to", "reply-cc", "new-subject", "reply-body"] : ["reply-body", "note-body"];
  function draftKey(box) { return draftScope && box ? DRAFT + draftScope + ":" + box.id : null; }
  function restoreDrafts() {
    if (!window.localStorage) { return; }
    // A new ticket started to someone else is not put under this one's address.
    var to = document.getElementById("new-to");
    var savedTo = to ? localStorage.getItem(draftKey(to)) : null;
    if (to && to.value !== "" && savedTo && savedTo !== to.value) { return; }
    DRAFTED.forEach(function (id) {
      var box = document.getElementById(id);
      var key = draftKey(box);
      var saved = key ? localStorage.getItem(key) : null;
      if (saved && box.value === "") { box.value = saved; }
    });
    updatePreview();
  }
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (!t || DRAFTED.indexOf(t.id) < 0 || !window.localStorage) { return; }
    var key = draftKey(t);
    try {
      if (t.value === "") { localStorage.removeItem(key); } else { localStorage.setItem(key, t.value); }
    } catch (err) { /* storage full or off: the box still holds the text */ }
  });
  // Enter in the "Send later" time picker schedules the reply; it must not send it now
  // (the form's first button).
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !e.target || e.target.id !== "send-at") { return; }
    e.preventDefault();
    var schedule = e.target.form && e.target.form.querySelector("button[value=later]");
    if (schedule) { schedule.click(); }
  });

  // A note needs words or a file: an empty one is not posted.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains("note")) { return; }
    var box = form.querySelector("#note-body");
    var files = form.querySelector("#note-files");
    if (box && box.value.trim() === "" && !(files && files.files && files.files.length)) {
      e.preventDefault();
      box.focus();
    }
  }, true);

  // A time picked in the agent's own clock (a snooze's end, a reply sent later) goes to
  // the server in UTC: a hidden input with data-utc-of names the picker it comes from.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.querySelectorAll) { return; }
    Array.prototype.forEach.call(form.querySelectorAll("input[data-utc-of]"), function (utc) {
      var picker = form.querySelector('input[name="' + utc.getAttribute("data-utc-of") + '"]');
      if (!picker || !picker.value) { return; }
      var when = new Date(picker.value);
      if (!isNaN(when.getTime())) { utc.value = when.toISOString(); }
    });
  }, true);

  // Suggestions for @mentions in the note box: colleagues whose handle, name or address
  // begins with what follows the @. Arrows pick, Enter or Tab (or a click) puts the
  // handle in, Esc closes.
  var MENTION_TYPED = /(^|[^\p{L}\p{N}._%+\-@])@([\p{L}\p{N}._%+\-]*)$/u;
  var mentionPick = 0;
  function mentionList() { return document.getElementById("mention-list"); }
  function closeMentions() {
    var list = mentionList();
    if (list) { list.hidden = true; list.textContent = ""; }
  }
  function typedMention(box) {
    var m = MENTION_TYPED.exec(box.value.slice(0, box.selectionStart));
    return m ? m[2].toLowerCase() : null;
  }
  function showMentions(box) {
    var list = mentionList();
    var agents = document.getElementById("mention-agents");
    var typed = typedMention(box);
    if (!list || !agents || typed === null) { closeMentions(); return; }
    var found = Array.prototype.filter.call(agents.options, function (o) {
      var words = [o.value].concat(o.label.toLowerCase().split(/[\s·@.]+/));
      return words.some(function (w) { return w.indexOf(typed) === 0; });
    }).slice(0, 6);
    if (!found.length) { closeMentions(); return; }
    list.textContent = "";
    mentionPick = Math.min(mentionPick, found.length - 1);
    found.forEach(function (o, i) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.setAttribute("data-handle", o.value);
      item.setAttribute("aria-selected", i === mentionPick ? "true" : "false");
      item.textContent = "@" + o.value + " — " + o.label;
      list.appendChild(item);
    });
    list.hidden = false;
  }
  function insertMention(box, handle) {
    var caret = box.selectionStart;
    var before = box.value.slice(0, caret).replace(MENTION_TYPED, function (all, lead) { return lead + "@" + handle + " "; });
    box.value = before + box.value.slice(caret);
    box.selectionStart = box.selectionEnd = before.length;
    closeMentions();
    // As if typed: the draft is kept.
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  }
  document.addEventListener("input", function (e) {
    // What is typed changed: the list starts again at its first colleague.
    if (e.target && e.target.id === "note-body") { mentionPick = 0; showMentions(e.target); }
  });
  document.addEventListener("keydown", function (e) {
    var box = e.target;
    var list = mentionList();
    if (!box || box.id !== "note-body" || !list || list.hidden || e.ctrlKey || e.metaKey) { return; }
    var items = list.querySelectorAll("li");
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      mentionPick = (mentionPick + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      showMentions(box);
    } else if (e.key === "Enter" || e.key === "Tab") {
      insertMention(box, items[mentionPick].getAttribute("data-handle"));
      mentionPick = 0;
    } else if (e.key === "Escape") {
      closeMentions();
    } else {
      return;
    }
    // The keys the list took do nothing else (no new line, no leaving the box).
    e.preventDefault();
    e.stopImmediatePropagation();
  }, true);
  document.addEventListener("mousedown", function (e) {
    var item = e.target && e.target.closest ? e.target.closest("#mention-list li") : null;
    var box = document.getElementById("note-body");
    if (!item || !box) { return; }
    e.preventDefault();
    insertMention(box, item.getAttribute("data-handle"));
    mentionPick = 0;
  });

  // A mail waiting to be sent says how long it still waits (the undo window).
  function countDown() {
    var now = Date.now() / 1000;
    Array.prototype.forEach.call(document.querySelectorAll("span.due[data-due]"), function (el) {
      var left = Number(el.getAttribute("data-due")) - now;
      if (isNaN(left)) { return; }
      // A mail scheduled for later says when, in the agent's own clock.
      el.textContent = left >= 3600
        ? "at " + new Date(Number(el.getAttribute("data-due")) * 1000).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })
        : left >= 60 ? "in " + Math.ceil(left / 60) + " min" : left > 0 ? "in " + Math.ceil(left) + " s" : "now";
    });
  }
  countDown();
  setInterval(countDown, 1000);

  // "Edit again" on a cancelled reply: its text back in the reply box.
  document.addEventListener("click", function (e) {
    var button = e.target && e.target.closest ? e.target.closest("button.edit-again") : null;
    if (button && button.getAttribute("data-form") === "forward") { editForwardAgain(button); return; }
    var box = document.getElementById("reply-body");
    if (!button || !box) { return; }
    if (box.value.trim() !== "" && !window.confirm("Replace what is in the reply box?")) { return; }
    box.value = button.getAttribute("data-draft");
    // As if typed: the preview follows and the draft is kept.
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  });

  // A cancelled forward back in the forward form: the mail it was sending (when it is
  // still on the ticket), whom to, and the note on top.
  function editForwardAgain(button) {
    var box = document.getElementById("forward");
    var to = document.getElementById("forward-to");
    var note = document.getElementById("forward-body");
    var pick = document.getElementById("forward-message");
    if (!box || !to || !note || !pick) { return; }
    if ((to.value.trim() !== "" || note.value.trim() !== "") &&
        !window.confirm("Replace what is in the forward form?")) { return; }
    var message = button.getAttribute("data-message");
    if (message && pick.querySelector('option[value="' + message + '"]')) { pick.value = message; }
    to.value = button.getAttribute("data-to");
    note.value = button.getAttribute("data-draft");
    box.open = true;
    box.scrollIntoView({ block: "nearest" });
    note.focus();
  }

  // A mail's own "Forward" button: the forward form opens with that mail picked.
  document.addEventListener("click", function (e) {
    var button = e.target && e.target.closest ? e.target.closest("button.forward-this") : null;
    if (!button) { return; }
    var box = document.getElementById("forward");
    var pick = document.getElementById("forward-message");
    if (!box || !pick) { return; }
    pick.value = button.getAttribute("data-message");
    box.open = true;
    box.scrollIntoView({ block: "nearest" });
    var to = document.getElementById("forward-to");
    if (to) { to.focus(); }
  });

  // Forms that cannot be undone ask first.
  document.addEventListener("submit", function (e) {
    // The button pressed may ask on its own (the inbox's "Mark as spam").
    var ask = (e.submitter && e.submitter.getAttribute("data-confirm")) || e.target.getAttribute("data-confirm");
    if (ask && !window.confirm(ask)) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);

  document.addEventListener("submit", function (e) {
    if (!window.localStorage) { return; }
    var form = e.target;
    if (form.getAttribute("action") === "/logout") {
      Object.keys(localStorage).filter(function (k) { return k.indexOf(DRAFT) === 0; })
        .forEach(function (k) { localStorage.removeItem(k); });
      return;
    }
    DRAFTED.forEach(function (id) {
      var box = form.querySelector("#" + id);
      if (box) { localStorage.removeItem(draftKey(box)); }
    });
  });
  restoreDrafts();

  // The row j/k moved to: a list refreshed live keeps it.
  var currentRow = null;
  function listRows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr.ticket[data-ticket], .hits li[data-ticket], table.customer-list tr[data-customer]"));
  }
  // A ticket's number, or a customer's (the customers directory).
  function rowKey(r) {
    var ticket = r.getAttribute("data-ticket");
    return ticket !== null ? ticket : "c" + r.getAttribute("data-customer");
  }
  var rowLinks = "a[href^='/tickets/'], a[href^='/customers/']";
  function markRow(row) {
    listRows().forEach(function (r) { r.classList.remove("current"); r.removeAttribute("aria-current"); });
    if (!row) { return; }
    row.classList.add("current");
    row.setAttribute("aria-current", "true");
    currentRow = rowKey(row);
    var link = row.querySelector(rowLinks);
    if (link) { link.focus(); }
  }
  function moveRow(step) {
    var rows = listRows();
    if (!rows.length) { return; }
    var at = rows.findIndex(function (r) { return rowKey(r) === currentRow; });
    markRow(rows[at < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, at + step))]);
  }
  new MutationObserver(function () {
    if (currentRow === null) { return; }
    var row = listRows().find(function (r) { return rowKey(r) === currentRow; });
    if (row && !row.classList.contains("current")) { markRow(row); }
  }).observe(document.body, { childList: true });

  function focusBox(id) {
    var box = document.getElementById(id);
    if (box) { box.focus(); return true; }
    return false;
  }

  // A macro that writes a reply came back named in the fragment: its reply goes in the
  // reply box (kept as a draft, as if typed) for the agent to read and send. Once.
  // (After the drafts came back: a half-written reply keeps its words, the macro's
  // come after them.)
  var macroReply = /^#macro-reply=(.*)$/.exec(location.hash);
  var panelMacros = document.getElementById("macro-menu");
  if (macroReply && panelMacros) {
    var wanted = null;
    try { wanted = decodeURIComponent(macroReply[1]); } catch (err) { /* not ours */ }
    var replyBox = document.getElementById("reply-body");
    var written = Array.prototype.find.call(panelMacros.options, function (o) {
      return o.value === wanted && o.hasAttribute("data-reply");
    });
    if (replyBox && written) {
      var text = written.getAttribute("data-reply");
      replyBox.value = replyBox.value.trim() === "" ? text : replyBox.value.replace(/\s+$/, "") + "\n\n" + text;
      replyBox.dispatchEvent(new Event("input", { bubbles: true }));
      replyBox.focus();
    }
    history.replaceState(null, "", location.pathname + location.search);
  }

  // Closing waits for the ticket fields it needs (the server refuses it too): "Send
  // and close", or a closed status, stays on the page with what was typed, says so
  // and goes to the first empty field.
  var needsFields = document.getElementById("needs-fields");
  if (needsFields) {
    var closingStages = needsFields.getAttribute("data-closing").split("\n");
    var holdClose = function (e) {
      e.preventDefault();
      needsFields.setAttribute("role", "alert");
      needsFields.classList.add("held");
      var first = document.querySelector("form.ticket-fields [data-needed]");
      if (first) { first.focus(); }
    };
    document.addEventListener("click", function (e) {
      var button = e.target.closest && e.target.closest("form.reply button[name='then'][value='close']");
      if (button) { holdClose(e); }
    }, true);
    var statusMenu = document.querySelector("form[action$='/status'] select[name='stage']");
    if (statusMenu) {
      statusMenu.form.addEventListener("submit", function (e) {
        if (closingStages.indexOf(statusMenu.value) >= 0) { holdClose(e); }
      });
    }
  }

  // The macro form says what the macro picked does.
  var macroMenu = document.getElementById("macro-menu");
  var macroDoes = macroMenu && macroMenu.form && macroMenu.form.querySelector(".macro-does");
  if (macroDoes) {
    macroMenu.addEventListener("change", function () {
      var picked = macroMenu.options[macroMenu.selectedIndex];
      macroDoes.textContent = picked ? picked.getAttribute("data-does") : "";
    });
  }

  var toggle = document.getElementById("shortcuts-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var help = document.getElementById("shortcuts");
      if (help) { help.hidden = !help.hidden; }
    });
  }

  document.addEventListener("keydown", function (e) {
    // Enter in a one-line box of a mail form (Cc; the new ticket's To and Subject) would
    // send the mail half-written.
    if (e.key === "Enter" && e.target &&
        (e.target.id === "reply-cc" || e.target.id === "new-to" || e.target.id === "new-subject")) {
      e.preventDefault();
      return;
    }
    // Ctrl+Enter (Cmd+Enter) in the reply or note box sends it, as the form's own
    // button would (the browser's checks and the draft clean-up included).
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target &&
        (e.target.id === "reply-body" || e.target.id === "note-body") && e.target.form) {
      e.preventDefault();
      e.target.form.requestSubmit();
      return;
    }
    var help = document.getElementById("shortcuts");
    if (e.key === "Escape") {
      if (help && !help.hidden) { help.hidden = true; }
      if (document.activeElement && document.activeElement !== document.body) { document.activeElement.blur(); }
      return;
    }
    var tag = (e.target && e.target.tagName) || "";
    var box = tag === "INPUT" && e.target.type === "checkbox";
    if ((tag === "INPUT" && !box) || tag === "TEXTAREA" || tag === "SELECT") { return; }
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var handled = true;
    switch (e.key) {
      case "/": handled = focusBox("search-box"); break;
      case "r": handled = !!ticket && focusBox("reply-body"); break;
      case "n": handled = !!ticket && focusBox("note-body"); break;
      case "t": {
        var take = document.getElementById("take-ticket");
        if (take) { take.click(); } else { handled = false; }
        break;
      }
      case "j": moveRow(1); break;
      case "k": moveRow(-1); break;
      case "o": {
        var row = listRows().find(function (r) { return rowKey(r) === currentRow; });
        var link = row && row.querySelector(rowLinks);
        if (link) { location.href = link.href; } else { handled = false; }
        break;
      }
      case "x": {
        var marked = listRows().find(function (r) { return rowKey(r) === currentRow; });
        var box = marked && marked.querySelector("input[name=ticket]");
        if (box) { box.checked = !box.checked; bulkState(); } else { handled = false; }
        break;
      }
      case "m": handled = focusBox("macro-menu") || focusBox("bulk-macro"); break;
      case "i": location.href = "/inbox"; break;
      case "c": location.href = "/tickets/new"; break;
      case "u": {
        var unread = document.getElementById("mark-unread");
        if (unread) { unread.click(); } else { handled = false; }
        break;
      }
      case "?": if (help) { help.hidden = !help.hidden; } break;
      default: handled = false;
    }
    if (handled) { e.preventDefault(); }
  });
})();
