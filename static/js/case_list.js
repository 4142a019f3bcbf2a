// The case list's "select all on this page". Without it each row is ticked by hand,
// so the control stays hidden until this script runs.
"use strict";

(() => {
  const all = document.querySelector("[data-select-all]");
  if (!all) return;
  const name = all.dataset.selectAll;
  const boxes = () => Array.from(all.form.querySelectorAll('input[type="checkbox"][name="' + name + '"]'));

  // Ticked, cleared, or "some" (indeterminate), following the rows ticked by hand.
  const follow = () => {
    const rows = boxes();
    const ticked = rows.filter((box) => box.checked).length;
    all.checked = rows.length > 0 && ticked === rows.length;
    all.indeterminate = ticked > 0 && ticked < rows.length;
  };

  all.addEventListener("change", () => {
    boxes().forEach((box) => { box.checked = all.checked; });
  });
  all.form.addEventListener("change", (event) => {
    if (event.target.name === name) follow();
  });
  all.closest("label").hidden = false;
  follow();
})();
