// frontdesk's notification worker: the agent page shows desktop notifications through
// it, so a click on one opens its ticket even after the tab that showed it is gone.
"use strict";
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
