// The care console: a beep for every new alarm (after the operator has allowed sound: browsers
// only play audio after a user gesture), and the live-connection badge.
(function () {
  "use strict";
  var audio = null;
  function beep() {
    if (!audio) { return; }
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.2;
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.6);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("care-sound");
    var live = document.getElementById("care-live");
    if (button) {
      button.addEventListener("click", function () {
        var Ctx = window.AudioContext || window.webkitAudioContext;
        if (Ctx && !audio) { audio = new Ctx(); }
        button.textContent = "提示音已开启";
        button.disabled = true;
        beep();
      });
    }
    document.body.addEventListener("htmx:sseMessage", function (event) {
      if (event.detail && (event.detail.type === "alarm" || event.detail.type === "escalation")) { beep(); }
    });
    // The server ends each stream after a while and the browser reconnects at once: only a
    // connection that stays down for 10 s is shown as lost.
    var lostTimer = null;
    document.body.addEventListener("htmx:sseOpen", function () {
      if (lostTimer) { clearTimeout(lostTimer); lostTimer = null; }
      if (live) { live.textContent = "实时连接正常"; live.classList.remove("lost"); }
    });
    document.body.addEventListener("htmx:sseError", function () {
      if (lostTimer || !live) { return; }
      lostTimer = setTimeout(function () {
        live.textContent = "连接中断,正在重连";
        live.classList.add("lost");
      }, 10000);
    });
  });
})();
