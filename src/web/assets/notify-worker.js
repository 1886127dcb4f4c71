// frontdesk's notification worker: the agent page shows desktop notifications through
// it, so a click on one opens its ticket even after the tab that showed it is gone.
"use strict";
// A notice from a tab (every open tab passes on each one). Nothing shows while the
// agent has its ticket on screen (the tab in front in a window that is not minimised,
// focused or not, as on a second monitor): it changes before their eyes.
// Each notice is handled once: the copies the other tabs pass on are dropped here (a
// copy shown again under the same tag would replace the first, which some browsers
// do by closing it, and then lose both); its tag stops a copy that comes after this
// worker was restarted.
// It stays until the agent clicks or closes it: news for someone away from the screen
// is there when they come back.
var handled = [];
self.addEventListener("message", function (e) {
  var n = e.data && e.data.notice;
  if (!n || typeof n.url !== "string") { return; }
  var target = new URL(n.url, self.location.origin);
  if (target.origin !== self.location.origin) { return; }
  var tag = "frontdesk-" + n.id;
  if (handled.indexOf(tag) >= 0) { return; }
  handled.push(tag);
  if (handled.length > 200) { handled.shift(); }
  // Uncontrolled too: a tab opened before the worker started is the desk all the same.
  e.waitUntil(Promise.all([
    self.clients.matchAll({ type: "window", includeUncontrolled: true }),
    self.registration.getNotifications({ tag: tag })
  ]).then(function (found) {
    var tabs = found[0];
    if (found[1].length > 0) { return; }
    for (var i = 0; i < tabs.length; i++) {
      var tab = tabs[i];
      if (tab.visibilityState === "visible" && new URL(tab.url).pathname === target.pathname) { return; }
    }
    return self.registration.showNotification(String(n.title), {
      body: String(n.body), tag: tag, requireInteraction: true, data: { url: target.pathname }
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
