// A small enhancement; every form works without it. In the review form, only the reasons of the
// chosen decision stay selectable.
(function () {
  var decision = document.getElementById("f-decision");
  var reason = document.getElementById("f-reason_code");
  if (!decision || !reason) { return; }
  function sync() {
    var groups = reason.querySelectorAll("optgroup");
    for (var i = 0; i < groups.length; i++) {
      var off = decision.value !== "" && groups[i].getAttribute("data-decision") !== decision.value;
      groups[i].disabled = off;
      groups[i].hidden = off;
    }
    var chosen = reason.options[reason.selectedIndex];
    if (chosen && chosen.parentNode.disabled) { reason.value = ""; }
  }
  decision.addEventListener("change", sync);
  sync();
}());
