/* Service worker (issue 16; docs/phones.md, "Offline"). Hand-written and small: no build step.
   - /static/ files are fingerprinted and immutable: cache first, kept forever (their name changes).
   - Pages a person reads (courses, library, programs, home, My learning): network first; a copy is
     kept, and it is what answers when there is no network. Without a copy: /offline.
   - Lessons already stored: stale-while-revalidate (the copy at once, refreshed in the background).
   - Never stored: anything not GET, author/admin/account pages, quizzes and attempts (online only: a stale copy of an attempt would show answers the server no longer holds), JSON.
   - Courses "downloaded for offline" are caches named lms-course-<slug>, written by static/js/offline.js.
   - Saves of UNTIMED quiz attempts that find no network: kept in IndexedDB (one per attempt) and sent
     the same way; timed attempts are online only (their page keeps the answers while it is open).
   - "Done" pressed without a network: kept in IndexedDB with its own id and time, answered with the
     next lesson (from the copies); sent to /offline/progress after the next page that comes over the
     network. The server counts each id once, so sending twice is harmless.
   - Log-in and log-out (POST) first send the queue, then empty every stored page: the next person
     on this phone must not read the last one's. */
const SHELL = "lms-shell-{{ version }}";
const PAGES = "lms-pages";
const STATIC = "lms-static";
const SHELL_URLS = {{ shell_urls|tojson }};
const OFFLINE_URL = SHELL_URLS[0];
const READABLE = [/^\/$/, /^\/courses(\/|$)/, /^\/library(\/|$)/, /^\/programs(\/|$)/, /^\/my$/, /^\/offline$/, /^\/files\//];
const NEVER = [/\/(new|edit|archive|versions)(\/|$)/, /\/offline\.json$/, /^\/author/, /^\/admin/, /^\/quizzes/, /^\/attempts/, /^\/login/, /^\/logout/, /^\/api\//];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_URLS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(
    names.filter((name) => name.startsWith("lms-shell-") && name !== SHELL).map((name) => caches.delete(name))
  )).then(() => self.clients.claim()));
});

function clearPages() {
  return caches.keys().then((names) => Promise.all(
    names.filter((name) => name === PAGES || name.startsWith("lms-course-")).map((name) => caches.delete(name))));
}

// IndexedDB "lms-offline": progress (lessons marked done), answers (saves of untimed quiz attempts, one
// per attempt: the newest replaces the older, it carries every answer the page has not seen confirmed),
// notices (what the server refused, shown on the next page that asks).
function queue(mode, work, store = "progress") {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("lms-offline", 2);
    open.onupgradeneeded = () => {
      const names = open.result.objectStoreNames;
      if (!names.contains("progress")) open.result.createObjectStore("progress", { keyPath: "id" });
      if (!names.contains("answers")) open.result.createObjectStore("answers", { keyPath: "attempt" });
      if (!names.contains("notices")) open.result.createObjectStore("notices", { autoIncrement: true });
    };
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const transaction = open.result.transaction(store, mode);
      const request = work(transaction.objectStore(store));
      transaction.oncomplete = () => { open.result.close(); resolve(request && request.result); };
      transaction.onerror = () => reject(transaction.error);
    };
  });
}

async function sendProgress(who, records) {
  const mine = records.filter((record) => record.user === who.user);  // others' wait for their next log-in
  if (!mine.length) return;
  const response = await fetch("/offline/progress", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": who.token },
    body: JSON.stringify({ records: mine.map(({ id, lesson, done, at }) => ({ id, lesson, done, at })) }),
  });
  if (!response.ok) return;
  const answered = (await response.json()).results.map((result) => result.id);  // applied, repeated or refused: final
  await queue("readwrite", (store) => { answered.forEach((id) => store.delete(id)); });
}

// Each answer carries its version: the server keeps it only if newer than what it holds, so a save sent
// twice (here and by the page itself) is one answer. Into a submitted attempt it is refused (409) with a
// message for the learner.
async function sendAnswers(who, saves) {
  for (const save of saves.filter((item) => item.user === who.user)) {
    const body = new FormData();
    body.append("csrf_token", who.token);
    save.fields.forEach(([name, value]) => body.append(name, value));
    const response = await fetch(save.url, { method: "POST", credentials: "same-origin", body,
      headers: { "Accept": "application/json", "X-CSRFToken": who.token, "X-Offline-Replay": "1" } });
    if (response.status === 401 || response.status === 429 || response.status >= 500) continue;  // later
    if (!response.ok) {
      let message = "";
      try { message = (await response.json()).message || ""; } catch (error) { message = ""; }
      if (message) await queue("readwrite", (store) => { store.add({ user: save.user, text: message }); }, "notices");
    }
    await queue("readwrite", (store) => { store.delete(save.attempt); }, "answers");
  }
}

function sendQueue() {
  // One at a time; a caller arriving meanwhile waits for the same run.
  if (!sendQueue.running) {
    sendQueue.running = (async () => {
      try {
        const records = await queue("readonly", (store) => store.getAll());
        const saves = await queue("readonly", (store) => store.getAll(), "answers");
        if (!records.length && !saves.length) return;
        const who = await (await fetch("/offline/token", { credentials: "same-origin", cache: "no-store" })).json();
        if (records.length) await sendProgress(who, records);
        if (saves.length) await sendAnswers(who, saves);
      } catch (error) {
        // Still no network, or logged out: the queue stays for the next page that comes over the network.
      }
    })().finally(() => { sendQueue.running = null; });
  }
  return sendQueue.running;
}

// A page asks (the registration script, at every load): send what waits, then tell it what was refused.
async function sendAndTell(client) {
  await sendQueue();
  try {
    const notices = await queue("readonly", (store) => store.getAll(), "notices");
    if (!notices.length || !client) return;  // the usual case: no request at all
    const keys = await queue("readonly", (store) => store.getAllKeys(), "notices");
    const who = await (await fetch("/offline/token", { credentials: "same-origin", cache: "no-store" })).json();
    const mine = keys.filter((key, index) => notices[index].user === who.user);
    if (!mine.length) return;
    client.postMessage({ notices: mine.map((key) => notices[keys.indexOf(key)].text) });
    await queue("readwrite", (store) => { mine.forEach((key) => store.delete(key)); }, "notices");
  } catch (error) {
    // no network: told at a later page
  }
}

self.addEventListener("message", (event) => {
  if (event.data === "send") event.waitUntil(sendAndTell(event.source));
});

const DONE = /^\/courses\/([^/]+)\/lessons\/(\d+)\/done$/;

async function doneWithoutNetwork(event, request, match) {
  const form = await request.clone().formData();
  try {
    const response = await fetch(request);
    // The lesson's copies show the old state ("mark done"): the next visit goes to the network first,
    // and meanwhile they are refreshed (not counted as a visit: X-Offline-Copy).
    const lesson = `/courses/${match[1]}/lessons/${match[2]}`;
    changed.add(lesson);
    event.waitUntil(refreshCopies(lesson));
    return response;
  } catch (error) {
    const done = form.get("done") !== "0";
    const id = self.crypto.randomUUID();
    await queue("readwrite", (store) => store.put({
      id, user: form.get("user") || "", lesson: Number(match[2]), done, at: new Date().toISOString() }));
    const next = done && form.get("next_lesson") ? form.get("next_lesson") : match[2];
    return Response.redirect(`/courses/${match[1]}/lessons/${next}#offline-saved`, 303);
  }
}

const SAVE = /^\/attempts\/(\d+)\/save$/;

// A save of an untimed attempt (the page marks it with X-Offline-Queue: its learner) that finds no
// network is kept and answered 202 "queued"; the page keeps its own copy too and says so.
async function saveWithoutNetwork(request, match) {
  const form = await request.clone().formData();
  try {
    return await fetch(request);
  } catch (error) {
    const fields = [...form.entries()].filter(([name, value]) => name !== "csrf_token" && typeof value === "string");
    await queue("readwrite", (store) => store.put({
      attempt: Number(match[1]), url: new URL(request.url).pathname, user: request.headers.get("X-Offline-Queue"),
      fields, at: new Date().toISOString() }), "answers");
    return new Response(JSON.stringify({ queued: true }), { status: 202, headers: { "Content-Type": "application/json" } });
  }
}

async function leaving(request) {
  await sendQueue();  // while the session that made them still holds
  await clearPages();
  return fetch(request);
}

async function fromCache(request) {
  // Pages read online last are newer than a downloaded course's copy: look there first.
  const options = { ignoreVary: true };
  return (await caches.match(request, { ...options, cacheName: PAGES })) || (await caches.match(request, options));
}

async function networkFirst(request) {
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected && response.type === "basic") {
      const copy = response.clone();
      caches.open(PAGES).then((cache) => cache.put(request, copy));
    }
    return response;
  } catch (error) {
    const cached = await fromCache(request);
    if (cached) return cached;
    if (request.mode === "navigate") return (await caches.match(OFFLINE_URL)) || Response.error();
    throw error;
  }
}

// Lessons already on the phone open at once from the copy (a lesson on "Slow 3G" otherwise waits seconds
// for the network) and the copy is refreshed in the background for the next time: stale-while-revalidate.
// When the refreshed copy is a newer version of the lesson (X-Lesson-Version), the page being read is told,
// and says so: "reload to read the new version" (a trainer edited it meanwhile).
// A lesson gone or closed on the server (404, 403, 410) loses its copy; a redirect (e.g. to log in) keeps it.
const LESSON = /^\/courses\/[^/]+\/lessons\/\d+$/;

async function revalidate(request, stored, clientId) {
  try {
    const response = await fetch(request);
    const cache = await caches.open(PAGES);
    if (response.ok && !response.redirected && response.type === "basic") {
      const before = stored.headers.get("X-Lesson-Version");
      const now = response.headers.get("X-Lesson-Version");
      await cache.put(request, response);
      const client = before && now && before !== now && clientId ? await self.clients.get(clientId) : null;
      if (client) client.postMessage({ updated: true });
    } else if ([403, 404, 410].includes(response.status)) await cache.delete(request, { ignoreVary: true });
  } catch (error) {
    // no network: the copy stays as it is
  }
}

const changed = new Set();  // lessons whose copies are being refreshed after a change made here

async function refreshCopies(path) {
  try {
    const response = await fetch(path, { credentials: "same-origin", headers: { "X-Offline-Copy": "1" } });
    if (response.ok && !response.redirected) {
      const names = (await caches.keys()).filter((name) => name === PAGES || name.startsWith("lms-course-"));
      for (const name of names) {
        const cache = await caches.open(name);
        if (name === PAGES || await cache.match(path, { ignoreVary: true })) await cache.put(path, response.clone());
      }
    }
  } catch (error) {
    // no network: the next visit goes to the network first anyway
  } finally {
    changed.delete(path);
  }
}

async function staleWhileRevalidate(event, request) {
  const path = new URL(request.url).pathname;
  const cached = changed.has(path) ? null : await fromCache(request);
  if (!cached) return networkFirst(request);
  event.waitUntil(revalidate(request, cached, event.resultingClientId || event.clientId));
  return cached;
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    caches.open(STATIC).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST") {
    const done = DONE.exec(url.pathname);
    const save = SAVE.exec(url.pathname);
    if (done) event.respondWith(doneWithoutNetwork(event, request, done));
    else if (save && request.headers.get("X-Offline-Queue")) event.respondWith(saveWithoutNetwork(request, save));
    else if (url.pathname === "/login" || url.pathname === "/logout") event.respondWith(leaving(request));
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.startsWith("/static/")) { event.respondWith(cacheFirst(request)); return; }
  if (NEVER.some((rule) => rule.test(url.pathname))) {
    // Not stored, but without a network a page that says why (quizzes: online only) beats the browser's error.
    if (request.mode === "navigate") event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
    return;
  }
  // Any page view may be the network coming back: send what was done without it (nothing to send: no request).
  if (request.mode === "navigate") event.waitUntil(sendQueue());
  if (LESSON.test(url.pathname)) { event.respondWith(staleWhileRevalidate(event, request)); return; }
  if (READABLE.some((rule) => rule.test(url.pathname))) { event.respondWith(networkFirst(request)); return; }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(async () => (await caches.match(OFFLINE_URL)) || Response.error()));
  }
});
