// django-celery-beat's periodic task form (config/templates/admin/djcelery/): the crontab's
// help text shows the chosen schedule in words. Moved out of the page: the
// Content-Security-Policy runs no inline script.
(function ($) {
  "use strict";
  var readableCrontabs = JSON.parse($("#readable-crontabs").text());
  var originalCrontabHelp = JSON.parse($("#crontab-help-text").text());

  function updateCrontabHelp(additional) {
    $(".field-crontab .help").html(originalCrontabHelp + "<br/>Translation: " + additional);
  }

  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    updateCrontabHelp(readableCrontabs[$("#id_crontab").val()]);
  });
})(django.jQuery);
