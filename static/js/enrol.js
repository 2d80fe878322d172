// Preselect the phone's own time zone and date when the form is fresh (not sent back with an
// error, where her own choice stands).
(function () {
  var form = document.querySelector("form.stacked");
  if (!form || form.querySelector(".invalid")) return;
  var select = form.querySelector("select[name=timezone]");
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && select) {
    // Browsers report some zones by an old name (Asia/Calcutta): the list holds the current one.
    var current = JSON.parse(select.getAttribute("data-current-names") || "{}");
    zone = current[zone] || zone;
    if (select.querySelector('option[value="' + zone + '"]')) select.value = zone;
  }
  var start = form.querySelector("input[name=start_date]");
  var now = new Date();
  if (start) start.value = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
})();
