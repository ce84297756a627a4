// Study-time heartbeats for a lesson page. The server decides what is credited; this script
// only reports whether the page is visible, whether the learner did anything since the last
// beat, and (for videos) the playback position.
//
// A worker has one study clock, however many lesson pages are open (docs/study-time.md): a
// visible beat credits the wall time since the previous credited beat of any page, a hidden
// one stops the clock. So this page
//  - sends its beats one after another (never two at once, which would look like two pages);
//  - reports once when it goes to the background and then stays quiet until it is visible
//    again (a background page that kept beating would stop the clock of the page in use every
//    30 s, and no page would earn anything);
//  - tells the learner when another lesson page is open: other pages of this browser say so on
//    a BroadcastChannel, and the server's answer says when another page (another browser or
//    device too) used the clock since this page's last beat (`other_tab`).
(function () {
  "use strict";
  var lesson = document.getElementById("lesson");
  if (!lesson || !lesson.dataset.beatUrl) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var beatMs = Number(lesson.dataset.beatSeconds || 30) * 1000;
  var interacted = true;  // opening the lesson counts as input
  var attentionDialog = document.getElementById("attention");
  var waitingForAttention = false;
  var video = document.getElementById("lesson-video");
  var offlineBanner = lesson.querySelector("[data-offline]");
  var otherTabNote = lesson.querySelector("[data-other-tab]");
  var clock = null;  // the study clock as our last beat left it (sent back with the next)
  var quietInBackground = false;  // our "hidden" beat went through: no more until visible
  var otherOnServer = false;  // the last answer: another page beat since our previous beat
  var goneAt = 0;  // when a page of this browser last closed (its goodbye stops the clock)
  var others = {};  // other lesson pages of this browser: id -> {visible, heard (ms)}
  var leaving = false;  // pagehide came: the page is going away (or into the back cache)
  var pageId = Math.random().toString(36).slice(2) + Date.now().toString(36);
  var chain = Promise.resolve();

  function visible() { return document.visibilityState === "visible"; }

  ["pointerdown", "keydown", "wheel", "touchstart", "scroll"].forEach(function (name) {
    window.addEventListener(name, function () { interacted = true; }, { passive: true });
  });
  if (video) {
    ["play", "seeked", "volumechange"].forEach(function (name) {
      video.addEventListener(name, function () { interacted = true; });
    });
    // Report the position when playback stops (paused, or played to the end: "pause" fires
    // then too): the stretch since the last periodic beat is watched and credited now, not
    // lost when the learner leaves before the next beat.
    video.addEventListener("pause", function () { beat(); });
    video.addEventListener("loadedmetadata", function () {
      var resume = Number(video.dataset.resume || 0);
      if (resume > 0 && resume < video.duration - 2) { video.currentTime = resume; }
    });
  }

  function show(selector, text) {
    var el = lesson.querySelector(selector);
    if (el) { el.textContent = text; }
  }

  // The note about other open lesson pages: this page earns (it is the one in use) or not.
  function updateOtherTabNote() {
    if (!otherTabNote) { return; }
    var now = Date.now();
    Object.keys(others).forEach(function (id) {  // a page unheard of for long crashed or froze
      if (now - others[id].heard > 2.5 * beatMs) { delete others[id]; }
    });
    var open = otherOnServer || Object.keys(others).length > 0;
    var text = !open ? "" : (visible() ? otherTabNote.dataset.here : otherTabNote.dataset.elsewhere);
    if (otherTabNote.textContent !== text) { otherTabNote.textContent = text; }
    otherTabNote.className = text ? "flash flash-info" : "";
  }

  function send(extra) {
    var shown = visible();
    var body = { visible: shown, interacted: interacted };
    if (video) { body.position = video.currentTime || 0; }
    if (clock !== null) { body.clock = clock; }
    if (extra) { Object.assign(body, extra); }
    interacted = false;
    return fetch(lesson.dataset.beatUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      if (offlineBanner) { offlineBanner.hidden = true; }
      clock = data.clock;
      quietInBackground = !shown;
      // A page of this browser that just closed stopped the clock with its goodbye; that is
      // not another page in use.
      otherOnServer = Boolean(data.other_tab) && Date.now() - goneAt > 2 * beatMs;
      updateOtherTabNote();
      show("[data-credited]", String(Math.floor(data.credited_seconds / 60)));
      show("[data-watched-count]", String(Math.floor(data.watched_seconds)));
      if (data.lesson_completed && lesson.dataset.completed !== "1") {
        lesson.dataset.completed = "1";
        show("[data-status-text]", lesson.dataset.doneText || "\u2713");
        lesson.classList.add("is-complete");
      }
      if (data.attention_required && attentionDialog && !waitingForAttention) {
        waitingForAttention = true;
        if (attentionDialog.showModal) { attentionDialog.showModal(); } else { attentionDialog.setAttribute("open", ""); }
        if (video && !video.paused) { video.pause(); }
      }
    }).catch(function () {
      quietInBackground = false;  // keep reporting until the server has heard us
      if (offlineBanner) { offlineBanner.hidden = false; }
    });
  }

  // One beat at a time, and at most one waiting (a slow network must not pile them up).
  var waiting = false;
  function beat(extra) {
    if (waiting && !extra) { return chain; }
    waiting = true;
    chain = chain.then(function () { waiting = false; return send(extra); });
    return chain;
  }

  function periodicBeat() {
    announce("here");  // other pages of this browser hear from us even while we are quiet
    if (!visible() && quietInBackground) { updateOtherTabNote(); return; }
    beat();
  }

  if (attentionDialog) {
    var confirm = attentionDialog.querySelector("[data-confirm-attention]");
    confirm.addEventListener("click", function () {
      waitingForAttention = false;
      interacted = true;
      if (attentionDialog.close) { attentionDialog.close(); } else { attentionDialog.removeAttribute("open"); }
      beat();
    });
  }

  var channel = null;
  if (window.BroadcastChannel) {
    channel = new BroadcastChannel("pithead-study");
    channel.onmessage = function (event) {
      var m = event.data || {};
      if (!m.id || m.id === pageId) { return; }
      if (m.type === "gone") {
        delete others[m.id];
        goneAt = Date.now();
      } else {
        others[m.id] = { visible: Boolean(m.visible), heard: Date.now() };
        if (m.type === "hello") { announce("here"); }
      }
      updateOtherTabNote();
    };
  }
  function announce(type) {
    if (channel) { channel.postMessage({ type: type, id: pageId, visible: visible() }); }
  }

  document.addEventListener("visibilitychange", function () {
    if (leaving) { return; }  // unloading hides the page after pagehide: already said goodbye
    announce("here");
    updateOtherTabNote();
    beat();
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {  // back from the browser's cache
      leaving = false;
      announce("hello");
      beat();
    }
  });
  window.addEventListener("pagehide", function () {
    leaving = true;
    announce("gone");
    clock = null;  // our goodbye stops the clock: nothing to compare if the page comes back
    // Tell the server the page is gone so the time after it is never credited.
    var payload = JSON.stringify({ visible: false, interacted: false });
    fetch(lesson.dataset.beatUrl, { method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: payload });
  });
  window.PitheadStudy = { beat: beat };
  announce("hello");
  beat();
  window.setInterval(periodicBeat, beatMs);
})();
