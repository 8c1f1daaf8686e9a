// The automation editor (templates/automations/edit.html). Shows, in each condition
// row, the inputs that fit the chosen field; adds and removes rows; and keeps
// "In plain words" in step by asking the server (POST /admin/automations/summary),
// so the words come from the one place the saved rule's summary comes from. The
// Advanced JSON box follows the form too, until someone types in it.
// Without this script the form still works: every input is there, the server judges.
(function () {
  "use strict";
  var form = document.getElementById("rule-form");
  if (!form) { return; }
  var json = document.getElementById("rule-json");
  var words = document.getElementById("rule-words");
  var rows = document.getElementById("condition-rows");
  var template = document.getElementById("condition-template");
  var add = document.getElementById("add-condition");
  var box = document.getElementById("definition");
  var typedInBox = false;

  function showPart(row) {
    var select = row.querySelector("[data-field]");
    var option = select.options[select.selectedIndex];
    var part = option.getAttribute("data-for") || "";
    row.querySelectorAll(".part").forEach(function (el) {
      el.hidden = part === "" || el.getAttribute("data-part") !== part;
    });
    var suffix = row.querySelector("[data-suffix-text]");
    if (suffix) { suffix.textContent = option.getAttribute("data-suffix") || "days"; }
  }

  function wire(row) {
    row.querySelector("[data-field]").addEventListener("change", function () { showPart(row); });
    var remove = row.querySelector("[data-remove]");
    remove.hidden = false;
    remove.addEventListener("click", function () {
      row.remove();
      refresh(form);
      add.focus();
    });
    showPart(row);
  }

  rows.querySelectorAll(".condition").forEach(wire);
  add.hidden = false;
  add.addEventListener("click", function () {
    var i = Number(rows.getAttribute("data-next"));
    rows.setAttribute("data-next", String(i + 1));
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__i__/g, String(i)));
    var row = rows.lastElementChild;
    wire(row);
    row.querySelector("[data-field]").focus();
  });

  var timer = null;
  var asked = 0;
  function refresh(source) {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      var mine = ++asked;
      fetch(form.getAttribute("data-summary"), {
        method: "POST",
        body: new URLSearchParams(new FormData(source)),
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (answer) { return answer.json(); }).then(function (said) {
        if (mine !== asked) { return; }
        words.textContent = said.summary || said.problem;
        words.parentNode.classList.toggle("pending", !said.summary);
        if (said.definition && box && !typedInBox) { box.value = said.definition; }
      }).catch(function () { /* signed out or offline: keep the last words */ });
    }, 200);
  }
  form.addEventListener("input", function () { refresh(form); });
  form.addEventListener("change", function () { refresh(form); });
  if (json) {
    json.addEventListener("input", function () { typedInBox = true; refresh(json); });
  }
})();
