// The guided session: one exercise at a time, with a breathing pacer, hold countdowns and a
// rep and set counter with rests. Without this script the page is a plain form.
(function () {
  "use strict";

  var INHALE = 4, EXHALE = 6, RELAX = 5, REST = 30;
  var form = document.getElementById("guided");
  if (!form) return;
  var steps = Array.prototype.slice.call(form.querySelectorAll("[data-step]"));
  var record = document.getElementById("record");
  var current = 0, phases = [], at = 0, endsAt = 0, ticker = null, wakeLock = null;

  // Each exercise's plan: timed phases (seconds) and tap phases (seconds null).
  function plan(step) {
    var sets = Number(step.dataset.sets) || 1;
    var reps = Number(step.dataset.reps) || 0;
    var hold = Number(step.dataset.hold) || 0;
    var out = [];
    if (step.dataset.breathing) {
      var breaths = (reps || 10) * sets;
      for (var b = 1; b <= breaths; b++) {
        var where = "Breath " + b + " of " + breaths;
        out.push({ label: "Breathe in", seconds: INHALE, where: where, breath: "in" });
        out.push({ label: "Breathe out", seconds: EXHALE, where: where, breath: "out" });
      }
      return out;
    }
    var count = reps || 1;
    for (var s = 1; s <= sets; s++) {
      for (var r = 1; r <= count; r++) {
        var place = "Set " + s + " of " + sets + (reps ? " · rep " + r + " of " + count : "");
        if (hold) {
          out.push({ label: "Hold", seconds: hold, where: place });
          if (r < count) out.push({ label: "Let go", seconds: RELAX, where: place });
        } else {
          out.push({ label: "Rep " + r + " of " + count, seconds: null, where: place });
        }
      }
      if (s < sets) out.push({ label: "Rest before the next set", seconds: REST, where: "Set " + s + " of " + sets + " done" });
    }
    return out;
  }

  function part(step, name) { return step.querySelector("[data-" + name + "]"); }

  function cue() {
    if (document.getElementById("cue-vibrate").checked && navigator.vibrate) navigator.vibrate(150);
    if (document.getElementById("cue-sound").checked && window.AudioContext) {
      var audio = new AudioContext(), tone = audio.createOscillator();
      tone.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.15);
    }
  }

  function keepAwake() {
    if (!wakeLock && navigator.wakeLock && document.visibilityState === "visible") {
      navigator.wakeLock.request("screen").then(function (lock) {
        wakeLock = lock;
        lock.addEventListener("release", function () { wakeLock = null; });
      }).catch(function () {});
    }
  }

  function letSleep() {
    if (wakeLock) wakeLock.release();
    wakeLock = null;
  }

  function stopTimer() {
    if (ticker) clearInterval(ticker);
    ticker = null;
  }

  function show(index) {
    stopTimer();
    current = index;
    steps.forEach(function (step, i) { step.hidden = i !== index; });
    record.hidden = index < steps.length;
    if (index >= steps.length) {
      letSleep();
      record.querySelector("h2").focus();
      return;
    }
    var step = steps[index];
    phases = plan(step);
    at = 0;
    part(step, "phase").textContent = "Ready when you are.";
    part(step, "count").textContent = "";
    part(step, "where").textContent = "";
    part(step, "start").hidden = false;
    part(step, "rep").hidden = true;
    step.querySelector("h2").focus();
  }

  function enter(i) {
    var step = steps[current];
    at = i;
    step.classList.remove("breathe-in", "breathe-out");
    if (at >= phases.length) {
      stopTimer();
      part(step, "phase").textContent = "Well done. On to the next one when you're ready.";
      part(step, "count").textContent = "";
      part(step, "rep").hidden = true;
      return;
    }
    var phase = phases[at];
    if (phase.breath) step.classList.add("breathe-" + phase.breath);
    part(step, "phase").textContent = phase.label;
    part(step, "where").textContent = phase.where;
    part(step, "rep").hidden = phase.seconds !== null;
    if (phase.seconds === null) {
      part(step, "count").textContent = "";
    } else {
      endsAt = Date.now() + phase.seconds * 1000;
      tick();
    }
  }

  function tick() {
    var phase = phases[at];
    if (!phase || phase.seconds === null) return;
    var left = Math.ceil((endsAt - Date.now()) / 1000);
    if (left <= 0) {
      cue();
      enter(at + 1);
      return;
    }
    part(steps[current], "count").textContent = left + " s";
  }

  function result(step, done) {
    var key = step.dataset.key;
    var choice = form.querySelector('input[name="done_' + key + '"][value="' + (done ? "1" : "0") + '"]');
    if (choice) choice.checked = true;
  }

  steps.forEach(function (step, i) {
    part(step, "start").addEventListener("click", function () {
      part(step, "start").hidden = true;
      keepAwake();
      stopTimer();
      ticker = setInterval(tick, 250);
      enter(0);
    });
    part(step, "rep").addEventListener("click", function () { cue(); enter(at + 1); });
    part(step, "next").addEventListener("click", function () { result(step, true); show(i + 1); });
    part(step, "skip").addEventListener("click", function () { result(step, false); show(i + 1); });
    step.querySelector("h2").tabIndex = -1;
  });
  record.querySelector("h2").tabIndex = -1;
  document.addEventListener("visibilitychange", function () {
    if (ticker) keepAwake();
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-guided-only]"), function (el) {
    el.hidden = false;
  });
  // Coming back with errors to fix: show the answers, not the first exercise.
  show(form.querySelector(".errors") ? steps.length : 0);
})();
