// The exam page on top of htmx: which answers are not saved yet (and retrying them), the
// connection banner, the timer, and noting page visibility in the attempt's log. The server is
// the authority on time and on what is saved; the page works without this file (plain posts).
(function () {
  "use strict";
  var root = document.getElementById("exam");
  if (!root) { return; }
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var banner = document.getElementById("conn-banner");
  var restored = document.getElementById("conn-restored");
  var form = document.getElementById("exam-form");
  var RETRY_MS = 4000;

  // --- answers not yet acknowledged by the server ------------------------------------------------
  var pending = {};    // question id -> its fieldset
  var changes = {};    // question id -> number of changes made on screen
  var connectionLost = !navigator.onLine;
  var leaving = false;

  function questionOf(el) {
    return el && el.closest ? el.closest("fieldset[data-question]") : null;
  }
  function pendingCount() { return Object.keys(pending).length; }
  function statusOf(fieldset) { return fieldset.querySelector(".save-state"); }
  function cellOf(id) { return document.getElementById("cell-" + id); }

  function showBanner() {
    connectionLost = true;
    if (restored) { restored.hidden = true; }
    if (banner && banner.hidden) { banner.hidden = false; }
    document.body.classList.add("has-conn-banner");
  }

  function hideBanner() {
    var wasShown = banner && !banner.hidden;
    connectionLost = false;
    if (banner) { banner.hidden = true; }
    document.body.classList.remove("has-conn-banner");
    if (wasShown && restored) {
      restored.hidden = false;
      setTimeout(function () { restored.hidden = true; }, 4000);
    }
  }

  function markUnsaved(fieldset) {
    var id = fieldset.dataset.question;
    pending[id] = fieldset;
    fieldset.classList.add("is-unsaved");
    var status = statusOf(fieldset);
    if (status) { status.textContent = status.dataset.pendingText || ""; }
    var cell = cellOf(id);
    if (cell) { cell.classList.add("is-pending"); }
  }

  function updateCount() {
    var counter = document.querySelector("[data-answered-count]");
    if (counter) { counter.textContent = String(document.querySelectorAll(".exam-grid .grid-cell.is-answered").length); }
  }

  if (form) {
    // Capture phase: counted before htmx, listening on the fieldset, sends the change.
    form.addEventListener("change", function (event) {
      var fieldset = questionOf(event.target);
      if (!fieldset) { return; }
      var id = fieldset.dataset.question;
      changes[id] = (changes[id] || 0) + 1;
      pending[id] = fieldset;
    }, true);
    form.addEventListener("submit", function (event) {
      // Offline, a plain post would replace this screen with the browser's error page and
      // the answers on it would be gone: stay, keep them, and say why.
      if (!navigator.onLine || connectionLost) {
        event.preventDefault();
        showBanner();
        return;
      }
      leaving = true;
    });
  }

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var fieldset = questionOf(event.detail.elt);
    if (!fieldset || event.detail.elt !== fieldset) { return; }
    fieldset.dataset.sent = String(changes[fieldset.dataset.question] || 0);
    var status = statusOf(fieldset);
    if (status && !fieldset.classList.contains("is-unsaved")) { status.textContent = status.dataset.savingText || ""; }
  });

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var fieldset = questionOf(event.detail.elt);
    if (!fieldset || event.detail.elt !== fieldset) { return; }
    var xhr = event.detail.xhr;
    // A 200 without the saved header is not our fragment (a sign-in page after the session
    // ended, a proxy's page): nothing was saved, and nothing of it belongs on the exam page.
    if (xhr.status === 200 && !xhr.getResponseHeader("X-Answer-Saved")) { event.detail.shouldSwap = false; }
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var fieldset = questionOf(event.detail.elt);
    if (!fieldset || event.detail.elt !== fieldset) { return; }
    var id = fieldset.dataset.question;
    var xhr = event.detail.xhr;
    var status = xhr ? xhr.status : 0;
    if (status === 200 && xhr.getResponseHeader("X-Answer-Saved")) {
      // Saved, unless the taker changed the answer again meanwhile (that save is queued).
      if (fieldset.dataset.sent === String(changes[id] || 0)) {
        delete pending[id];
        fieldset.classList.remove("is-unsaved");
      }
      updateCount();
      if (pendingCount() === 0 && navigator.onLine) { hideBanner(); }
      return;
    }
    if (status === 0 || status >= 500 || status === 200) {
      markUnsaved(fieldset);
      showBanner();
      return;
    }
    // Refused for good (the exam closed: htmx follows the redirect to the result).
    delete pending[id];
    fieldset.classList.remove("is-unsaved");
  });

  // The grid cell comes back as an out-of-band swap: count the answered ones once it is in.
  document.body.addEventListener("htmx:oobAfterSwap", updateCount);
  document.body.addEventListener("htmx:afterSettle", updateCount);

  function retry() {
    if (!navigator.onLine) { return; }
    Object.keys(pending).forEach(function (id) {
      var fieldset = pending[id];
      if (fieldset.classList.contains("is-unsaved") && window.htmx) { window.htmx.trigger(fieldset, "exam:retry"); }
    });
  }
  setInterval(function () { if (pendingCount() > 0) { retry(); } }, RETRY_MS);

  window.addEventListener("offline", function () { showBanner(); logEvent("offline"); });
  window.addEventListener("online", function () {
    logEvent("online");
    if (pendingCount() === 0) { hideBanner(); } else { retry(); }
  });
  if (!navigator.onLine) { showBanner(); }

  window.addEventListener("beforeunload", function (event) {
    if (!leaving && pendingCount() > 0) { event.preventDefault(); event.returnValue = ""; }
  });

  // --- the attempt's log for examiners (noted, never punished) -------------------------------------
  var unsent = [];
  function logEvent(kind) {
    if (!root.dataset.eventsUrl) { return; }
    if (!navigator.onLine) { unsent.push(kind); return; }
    var kinds = unsent.concat([kind]);
    unsent = [];
    kinds.forEach(function (item) {
      fetch(root.dataset.eventsUrl, {
        method: "POST", keepalive: true, credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ kind: item })
      }).catch(function () { unsent.push(item); });
    });
  }
  document.addEventListener("visibilitychange", function () {
    logEvent(document.visibilityState === "hidden" ? "hidden" : "visible");
  });

  // --- the timer ----------------------------------------------------------------------------------
  var timer = document.getElementById("exam-timer");
  if (!timer) { return; }
  var countdown = timer.querySelector("[data-countdown]");
  var announcer = document.getElementById("exam-announcer");
  var deadline = Date.parse(timer.dataset.deadline);
  // The server's clock, not the device's: how far the device is off, measured at page load.
  var offset = Date.parse(timer.dataset.now) - Date.now();
  var THRESHOLDS = [10, 5, 1];
  function remaining() { return deadline - (Date.now() + offset); }
  var announced = {};
  THRESHOLDS.forEach(function (minutes) { if (remaining() <= minutes * 60000) { announced[minutes] = true; } });

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function format(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s);
  }

  var submitted = false;
  function timeUp() {
    if (submitted) { return; }
    var timeout = document.getElementById("timeout-form");
    if (!timeout) { return; }
    if (!navigator.onLine) {
      // The server closes the attempt at its deadline anyway; show the result once back.
      showBanner();
      window.addEventListener("online", timeUp, { once: true });
      return;
    }
    submitted = true;
    leaving = true;
    timeout.submit();
  }

  function tick() {
    var left = remaining();
    countdown.textContent = format(left);
    timer.classList.toggle("is-low", left <= 10 * 60000);
    timer.classList.toggle("is-critical", left <= 60000);
    // Announce only the threshold just crossed (the smallest one, after a sleeping device).
    var say = null;
    THRESHOLDS.forEach(function (minutes) {
      if (!announced[minutes] && left <= minutes * 60000) { announced[minutes] = true; say = minutes; }
    });
    if (say !== null && announcer) { announcer.textContent = announcer.getAttribute("data-say-" + say) || ""; }
    if (left <= 0) {
      timer.classList.add("is-up");
      // A second's grace so the server, the only authority, agrees the time is up.
      if (left <= -1000) { timeUp(); return; }
    }
    setTimeout(tick, 1000 - ((Date.now() + offset) % 1000) + 5);
  }
  tick();
  window.addEventListener("pageshow", function (event) {
    // Back from the browser's page cache: the clock offset and the answers may be stale.
    if (event.persisted) { window.location.reload(); }
  });
}());
