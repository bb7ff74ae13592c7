// Tests of rollgate.js with Node's test runner: `node --test sdk/`.
//
// The unit tests run the snippet against a fake window (fetch, sendBeacon, DOM events,
// Navigation Timing). The end-to-end test posts through real `fetch` to a running Rollgate
// when ROLLGATE_EVENTS_URL (and ROLLGATE_INGEST_KEY) are set; `tests/api_sdk.rs` starts a real
// `rollgate serve`, runs this file against it and checks the events in the metric windows.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const Rollgate = require("./rollgate.js");

/** A window with just what the snippet touches, recording what it sends. */
function fakeWindow(opts = {}) {
  const handlers = {};
  const target = (name) => ({
    addEventListener(type, fn) {
      (handlers[`${name}:${type}`] ||= []).push(fn);
    },
    removeEventListener(type, fn) {
      handlers[`${name}:${type}`] = (handlers[`${name}:${type}`] || []).filter((f) => f !== fn);
    },
  });
  const storage = new Map();
  const win = {
    ...target("window"),
    sent: [],
    beacons: [],
    fetchFails: opts.fetchFails || 0,
    document: {
      ...target("document"),
      readyState: "complete",
      visibilityState: "visible",
      querySelector: (sel) => {
        const m = /meta\[name="([^"]+)"\]/.exec(sel);
        const content = m && (opts.meta || {})[m[1]];
        return content ? { getAttribute: () => content } : null;
      },
    },
    navigator: {
      sendBeacon(url, body) {
        win.beacons.push({ url, body: JSON.parse(body) });
        return true;
      },
    },
    performance: {
      getEntriesByType: () => [{ loadEventEnd: 840.4, startTime: 0 }],
    },
    localStorage: {
      getItem: (k) => (storage.has(k) ? storage.get(k) : null),
      setItem: (k, v) => storage.set(k, v),
    },
    crypto: { randomUUID: () => "generated-id" },
    setTimeout: (fn) => fn(),
    setInterval: () => 1,
    clearInterval: () => {},
    async fetch(url, init) {
      if (win.fetchFails > 0) {
        win.fetchFails -= 1;
        throw new Error("network down");
      }
      const body = JSON.parse(init.body);
      win.sent.push({ url, headers: init.headers, body, keepalive: init.keepalive });
      return {
        ok: true,
        status: 200,
        json: async () => ({ accepted: body.events.length, rejected: 0, errors: [] }),
      };
    },
    fire(name, type, event) {
      for (const fn of handlers[`${name}:${type}`] || []) fn(event);
    },
  };
  return win;
}

test("init reports an exposure and the page load time", async () => {
  const win = fakeWindow();
  const sdk = Rollgate.create(win);
  sdk.init({ endpoint: "https://rg.test/v1/events", unit: "user-1", version: "v1.2" });
  const names = sdk.pending().map((e) => [e.name, e.value]);
  assert.deepEqual(names, [["exposure", undefined], ["page_load_ms", 840]]);
  assert.deepEqual(sdk.pending()[0], { unit: "user-1", name: "exposure", version: "v1.2" });
  assert.deepEqual(await sdk.flush(), { accepted: 2, rejected: 0 });
  assert.equal(win.sent.length, 1);
  assert.equal(win.sent[0].url, "https://rg.test/v1/events");
  assert.equal(win.sent[0].keepalive, true);
  sdk.shutdown();
});

test("clicks on marked elements, conversions and custom events", async () => {
  const win = fakeWindow();
  const sdk = Rollgate.create(win);
  sdk.init({ unit: "u", exposure: false, pageLoad: false, ingestKey: "k3y" });
  const button = { getAttribute: (a) => (a === "data-rollgate-click" ? "buy_click" : null), parentNode: null };
  const icon = { getAttribute: () => null, parentNode: button };
  win.fire("document", "click", { target: icon });
  win.fire("document", "click", { target: { getAttribute: () => null, parentNode: null } });
  sdk.conversion();
  sdk.track("search_results", 12);
  assert.equal(sdk.track("Bad Name"), false);
  assert.equal(sdk.track("latency", Number.NaN), false);
  await sdk.flush();
  const sent = win.sent[0];
  assert.equal(sent.headers["X-Rollgate-Ingest-Key"], "k3y");
  assert.deepEqual(
    sent.body.events.map((e) => [e.name, e.value]),
    [["buy_click", undefined], ["conversion", undefined], ["search_results", 12]],
  );
  sdk.shutdown();
});

test("a full batch is sent at once; a failed send is retried", async () => {
  const win = fakeWindow({ fetchFails: 1 });
  const sdk = Rollgate.create(win);
  sdk.init({ unit: "u", exposure: false, pageLoad: false, batchSize: 3 });
  sdk.track("a");
  sdk.track("b");
  assert.equal(win.sent.length, 0);
  sdk.track("c"); // the third event fills the batch: sent (and fails)
  await new Promise((r) => setImmediate(r));
  assert.equal(win.sent.length, 0);
  assert.deepEqual(sdk.pending().map((e) => e.name), ["a", "b", "c"]);
  assert.deepEqual(await sdk.flush(), { accepted: 3, rejected: 0 });
  assert.deepEqual(win.sent[0].body.events.map((e) => e.name), ["a", "b", "c"]);
  sdk.shutdown();
});

test("when the page is hidden, what is left goes by sendBeacon with the key in the URL", () => {
  const win = fakeWindow();
  const sdk = Rollgate.create(win);
  sdk.init({ endpoint: "/v1/events", unit: "u", pageLoad: false, ingestKey: "a b", batchSize: 2 });
  sdk.track("click_x");
  sdk.track("click_y");
  win.document.visibilityState = "hidden";
  win.fire("document", "visibilitychange", {});
  assert.equal(win.sent.length, 1); // the full batch went by fetch
  assert.equal(win.beacons.length, 1);
  assert.equal(win.beacons[0].url, "/v1/events?key=a%20b");
  assert.deepEqual(win.beacons[0].body.events.map((e) => e.name), ["click_y"]);
  win.fire("window", "pagehide", {});
  assert.equal(win.beacons.length, 1); // nothing left
  sdk.shutdown();
});

test("the unit comes from the options, a meta tag, or a stored random id", () => {
  const fromMeta = Rollgate.create(fakeWindow({ meta: { "rollgate-unit": "m-1", "rollgate-version": "v2" } }));
  assert.equal(fromMeta.init({ pageLoad: false }), "m-1");
  assert.equal(fromMeta.pending()[0].version, "v2");
  fromMeta.shutdown();
  const win = fakeWindow();
  const sdk = Rollgate.create(win);
  assert.equal(sdk.init({ pageLoad: false }), "generated-id");
  assert.equal(win.localStorage.getItem("rollgate_unit"), "generated-id");
  sdk.shutdown();
  assert.throws(() => sdk.track("x"), /before Rollgate.init/);
});

test("end to end against a running Rollgate", { skip: !process.env.ROLLGATE_EVENTS_URL }, async () => {
  const win = { ...fakeWindow(), fetch: globalThis.fetch.bind(globalThis) };
  const sdk = Rollgate.create(win);
  const units = Number(process.env.ROLLGATE_UNITS || 20);
  let accepted = 0;
  for (let i = 0; i < units; i++) {
    sdk.init({
      endpoint: process.env.ROLLGATE_EVENTS_URL,
      ingestKey: process.env.ROLLGATE_INGEST_KEY,
      unit: `sdk-user-${i}`,
      batchSize: 50,
    });
    sdk.conversion();
    accepted += (await sdk.flush()).accepted;
  }
  sdk.shutdown();
  // exposure + page_load_ms + conversion per unit
  assert.equal(accepted, units * 3);
});
