// Study-time heartbeats for a lesson page. The server decides what is credited; this script
// only reports whether the page is visible, whether the learner did anything since the last
// beat, and (for videos) the playback position.
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

  function beat(extra) {
    var body = { visible: document.visibilityState === "visible", interacted: interacted };
    if (video) { body.position = video.currentTime || 0; }
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
      if (offlineBanner) { offlineBanner.hidden = false; }
    });
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

  document.addEventListener("visibilitychange", function () { beat(); });
  window.addEventListener("pagehide", function () {
    // Tell the server the page is gone so the time after it is never credited.
    var payload = JSON.stringify({ visible: false, interacted: false });
    fetch(lesson.dataset.beatUrl, { method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: payload });
  });
  window.PitheadStudy = { beat: beat };
  beat();
  window.setInterval(beat, beatMs);
})();
