// Preselect the phone's own time zone and date when the form is fresh.
(function () {
  var form = document.querySelector("form.stacked");
  if (!form || form.querySelector(".invalid")) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var select = form.querySelector("select[name=timezone]");
  if (zone && select && select.querySelector('option[value="' + zone + '"]')) select.value = zone;
  var start = form.querySelector("input[name=start_date]");
  var now = new Date();
  if (start) start.value = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
})();
