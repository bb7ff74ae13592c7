/*!
 * rollgate.js — report client events to Rollgate (`POST /v1/events`). Plain JavaScript, no
 * build step, no dependencies. Documented in docs/metrics.md ("Client events").
 *
 *   <script src="/rollgate.js"></script>
 *   <script>
 *     Rollgate.init({
 *       endpoint: "https://rollgate.example.com/v1/events",
 *       ingestKey: "…",          // optional: the write-only ingest key
 *       unit: "user-42",         // the id the edge buckets (render it into the page)
 *       version: "v1.2",         // optional: the version that served the page (its X-Version)
 *     });
 *   </script>
 *   <button data-rollgate-click="buy_click">Buy</button>
 *   …  Rollgate.conversion();   Rollgate.track("search", 3);
 *
 * What it sends by itself: one `exposure` when initialised, `page_load_ms` from Navigation
 * Timing once the page has loaded, and a `<name>` event for each click on an element marked
 * `data-rollgate-click="<name>"`. Events are batched (`batchSize`, `flushInterval`) and sent
 * with `fetch` (keepalive); when the page is hidden or unloaded, what is left goes with
 * `navigator.sendBeacon`, which cannot set headers: the ingest key then travels in the `key`
 * query parameter.
 */
(function (root, factory) {
  "use strict";
  var Rollgate = factory(root);
  // An independent instance bound to another global (an iframe's window, a test's fake).
  Rollgate.create = factory;
  if (typeof module === "object" && module.exports) {
    module.exports = Rollgate;
  } else {
    root.Rollgate = Rollgate;
  }
})(typeof self !== "undefined" ? self : globalThis, function (root) {
  "use strict";

  var DEFAULTS = {
    endpoint: "/v1/events",
    ingestKey: null,
    unit: null,
    version: null,
    service: null,
    attributes: null,
    batchSize: 20,
    flushInterval: 5000,
    maxQueue: 1000,
    exposure: true,
    pageLoad: true,
    clicks: true,
    onError: null,
  };
  var UNIT_STORAGE_KEY = "rollgate_unit";
  var NAME = /^[a-z][a-z0-9_]{0,63}$/;

  var config = null;
  var queue = [];
  var timer = null;
  var listeners = [];

  function meta(name) {
    var doc = root.document;
    var el = doc && doc.querySelector && doc.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : null;
  }

  function randomId() {
    var c = root.crypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID();
    var s = "";
    for (var i = 0; i < 4; i++) s += Math.floor(Math.random() * 0x100000000).toString(16);
    return s;
  }

  /** The unit: given, from `<meta name="rollgate-unit">`, or a random id kept in localStorage. */
  function resolveUnit(given) {
    if (given) return String(given);
    var fromMeta = meta("rollgate-unit");
    if (fromMeta) return fromMeta;
    try {
      var stored = root.localStorage && root.localStorage.getItem(UNIT_STORAGE_KEY);
      if (stored) return stored;
      var id = randomId();
      if (root.localStorage) root.localStorage.setItem(UNIT_STORAGE_KEY, id);
      return id;
    } catch (e) {
      return randomId();
    }
  }

  function report(error) {
    if (config && typeof config.onError === "function") config.onError(error);
  }

  function event(name, value) {
    var e = { unit: config.unit, name: name };
    if (value !== undefined && value !== null) e.value = value;
    if (config.version) e.version = config.version;
    if (config.service) e.service = config.service;
    if (config.attributes) e.attributes = config.attributes;
    return e;
  }

  /** Queues an event; flushes when the batch is full. */
  function track(name, value) {
    if (!config) throw new Error("Rollgate.track before Rollgate.init");
    if (typeof name !== "string" || !NAME.test(name)) {
      report(new Error("not an event name (a-z, 0-9, _; starting with a letter): " + name));
      return false;
    }
    if (value !== undefined && value !== null && !(typeof value === "number" && isFinite(value))) {
      report(new Error("the value of " + name + " must be a finite number"));
      return false;
    }
    queue.push(event(name, value));
    if (queue.length > config.maxQueue) queue.splice(0, queue.length - config.maxQueue);
    if (queue.length >= config.batchSize) flush();
    return true;
  }

  function url(withKey) {
    if (!withKey || !config.ingestKey) return config.endpoint;
    var sep = config.endpoint.indexOf("?") === -1 ? "?" : "&";
    return config.endpoint + sep + "key=" + encodeURIComponent(config.ingestKey);
  }

  function take() {
    return queue.splice(0, config.batchSize);
  }

  /** Sends what is queued with fetch; failed batches go back to the queue. */
  function flush() {
    if (!config || queue.length === 0) return Promise.resolve({ accepted: 0, rejected: 0 });
    var batches = [];
    while (queue.length > 0) batches.push(take());
    return Promise.all(batches.map(send)).then(function (reports) {
      return reports.reduce(
        function (sum, r) {
          return { accepted: sum.accepted + r.accepted, rejected: sum.rejected + r.rejected };
        },
        { accepted: 0, rejected: 0 },
      );
    });
  }

  function send(events) {
    var headers = { "Content-Type": "application/json" };
    if (config.ingestKey) headers["X-Rollgate-Ingest-Key"] = config.ingestKey;
    var body = JSON.stringify({ events: events });
    return root
      .fetch(url(false), { method: "POST", headers: headers, body: body, keepalive: true })
      .then(function (res) {
        return res.json().then(
          function (doc) {
            return { res: res, doc: doc };
          },
          function () {
            return { res: res, doc: null };
          },
        );
      })
      .then(function (r) {
        if (r.res.ok || r.res.status === 422) {
          var doc = r.doc || {};
          if (doc.errors && doc.errors.length) report(new Error("events refused: " + JSON.stringify(doc.errors)));
          return { accepted: doc.accepted || 0, rejected: doc.rejected || 0 };
        }
        if (r.res.status >= 500 || r.res.status === 429) requeue(events);
        report(new Error("POST " + config.endpoint + " answered " + r.res.status));
        return { accepted: 0, rejected: 0 };
      })
      .catch(function (err) {
        requeue(events);
        report(err);
        return { accepted: 0, rejected: 0 };
      });
  }

  function requeue(events) {
    queue = events.concat(queue);
    if (queue.length > config.maxQueue) queue.splice(0, queue.length - config.maxQueue);
  }

  /** Sends what is left with sendBeacon (the page is going away); fetch keepalive otherwise. */
  function beacon() {
    if (!config || queue.length === 0) return;
    var nav = root.navigator;
    while (queue.length > 0) {
      var events = take();
      var body = JSON.stringify({ events: events });
      var sent = nav && typeof nav.sendBeacon === "function" && nav.sendBeacon(url(true), body);
      if (!sent) {
        send(events);
      }
    }
  }

  function on(target, type, fn, capture) {
    if (!target || typeof target.addEventListener !== "function") return;
    target.addEventListener(type, fn, !!capture);
    listeners.push([target, type, fn, !!capture]);
  }

  function onClick(e) {
    var el = e.target;
    while (el && el.getAttribute) {
      var name = el.getAttribute("data-rollgate-click");
      if (name) {
        track(name);
        return;
      }
      el = el.parentNode;
    }
  }

  /** page_load_ms from Navigation Timing (level 2, else level 1). */
  function pageLoad() {
    var perf = root.performance;
    if (!perf) return;
    var nav = perf.getEntriesByType && perf.getEntriesByType("navigation")[0];
    var ms = null;
    if (nav && nav.loadEventEnd > 0) ms = nav.loadEventEnd - nav.startTime;
    else if (perf.timing && perf.timing.loadEventEnd > 0) ms = perf.timing.loadEventEnd - perf.timing.navigationStart;
    if (ms !== null && ms >= 0) track("page_load_ms", Math.round(ms));
  }

  function whenLoaded(fn) {
    var doc = root.document;
    // loadEventEnd is set after the load handlers ran: measure on the next turn.
    if (doc && doc.readyState === "complete") root.setTimeout(fn, 0);
    else on(root, "load", function () { root.setTimeout(fn, 0); });
  }

  /** Starts reporting. Calling it again replaces the configuration. */
  function init(options) {
    shutdown();
    config = {};
    var opts = options || {};
    for (var k in DEFAULTS) config[k] = opts[k] !== undefined ? opts[k] : DEFAULTS[k];
    config.unit = resolveUnit(opts.unit);
    config.version = config.version || meta("rollgate-version");
    config.batchSize = Math.max(1, Math.min(1000, config.batchSize | 0));
    if (config.flushInterval > 0) timer = root.setInterval(flush, config.flushInterval);
    if (config.exposure) track("exposure");
    if (config.pageLoad) whenLoaded(pageLoad);
    if (config.clicks) on(root.document, "click", onClick, true);
    on(root, "pagehide", beacon);
    on(root.document, "visibilitychange", function () {
      if (root.document.visibilityState === "hidden") beacon();
    });
    return config.unit;
  }

  /** Stops reporting (timers, listeners); queued events are dropped. */
  function shutdown() {
    if (timer !== null) root.clearInterval(timer);
    timer = null;
    listeners.forEach(function (l) {
      l[0].removeEventListener(l[1], l[2], l[3]);
    });
    listeners = [];
    queue = [];
    config = null;
  }

  return {
    init: init,
    track: track,
    conversion: function (value) {
      return track("conversion", value);
    },
    flush: flush,
    shutdown: shutdown,
    /** Events waiting to be sent (for tests and debugging). */
    pending: function () {
      return queue.slice();
    },
  };
});
