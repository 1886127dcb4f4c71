// frontdesk's notification worker: the agent page shows desktop notifications through
// it, so a click on one opens its ticket even after the tab that showed it is gone.
"use strict";
// A notice from a tab (every open tab passes on each one). Nothing shows while the
// agent has its ticket on screen (the tab in front in a window that is not minimised,
// focused or not, as on a second monitor): it changes before their eyes.
// The tag makes the notice the other tabs pass on replace it quietly, not repeat it.
// It stays until the agent clicks or closes it: news for someone away from the screen
// is there when they come back.
self.addEventListener("message", function (e) {
  var n = e.data && e.data.notice;
  if (!n || typeof n.url !== "string") { return; }
  var target = new URL(n.url, self.location.origin);
  if (target.origin !== self.location.origin) { return; }
  // Uncontrolled too: a tab opened before the worker started is the desk all the same.
  e.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (tabs) {
    for (var i = 0; i < tabs.length; i++) {
      var tab = tabs[i];
      if (tab.visibilityState === "visible" && new URL(tab.url).pathname === target.pathname) { return; }
    }
    return self.registration.showNotification(String(n.title), {
      body: String(n.body), tag: "frontdesk-" + n.id, requireInteraction: true, data: { url: target.pathname }
    });
  }));
});
self.addEventListener("notificationclick", function (e) {
  e.notification.close();
  var path = (e.notification.data && e.notification.data.url) || "/inbox";
  var url = new URL(path, self.location.origin).href;
  e.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (tabs) {
    for (var i = 0; i < tabs.length; i++) {
      if (tabs[i].url === url && "focus" in tabs[i]) { return tabs[i].focus(); }
    }
    return self.clients.openWindow(url);
  }));
});
