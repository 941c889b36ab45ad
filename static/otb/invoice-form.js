// The invoice form: add and remove lines, prefill a line from a saved service, and show the
// totals the server computes (billing.money, the same function a save uses) as the user types.
(function () {
  "use strict";
  const form = document.getElementById("invoice-form");
  if (!form) return;
  const services = JSON.parse(document.getElementById("services-data").textContent);
  const tbody = document.querySelector("#lines tbody");
  const template = document.getElementById("empty-line");
  const totalForms = form.querySelector("input[name='lines-TOTAL_FORMS']");

  function field(row, name) { return row.querySelector(`[data-field='${name}']`); }

  function prefill(row) {
    const service = services[field(row, "service").value];
    if (!service) return;
    // Only fill what the user has not typed yet.
    for (const name of ["description", "unit", "unit_price"]) {
      const input = field(row, name);
      if (!input.value.trim()) input.value = service[name];
    }
    field(row, "taxable").checked = service.taxable;
  }

  function addLine() {
    const index = parseInt(totalForms.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    tbody.insertAdjacentHTML("beforeend", html);
    totalForms.value = String(index + 1);
    const row = tbody.lastElementChild;
    field(row, "quantity").value = "1";
    field(row, "discount_percent").value = "0";
    field(row, "taxable").checked = true;
    field(row, "service").focus();
  }

  function visibleRows() {
    return [...tbody.querySelectorAll("tr.line-row")].filter((row) => !row.hidden);
  }

  let timer = null;
  let sequence = 0;
  function scheduleRefresh() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  async function refresh() {
    const mine = ++sequence;
    const message = form.querySelector("[data-total='message']");
    let data;
    try {
      const response = await fetch(form.dataset.previewUrl, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      });
      data = await response.json();
    } catch (error) {
      return; // offline or server busy: the saved figures are the ones that count
    }
    if (mine !== sequence) return; // an older answer arriving late
    if (!data.ok) {
      message.textContent = data.message;
      // "Choose a client" is a hint, not an error: only a real problem is shown in red.
      message.classList.toggle("text-danger", !data.incomplete);
      return;
    }
    message.classList.remove("text-danger");
    message.textContent = "";
    // Lines the server counted, in order: filled-in rows that are not removed.
    const counted = visibleRows().filter((row) =>
      ["service", "description", "unit_price"].some((name) => field(row, name).value.trim()));
    visibleRows().forEach((row) => { field(row, "amount").textContent = ""; });
    counted.forEach((row, i) => { field(row, "amount").textContent = data.lines[i] || ""; });
    for (const key of ["subtotal", "discount_total", "total"]) {
      form.querySelector(`[data-total='${key}']`).textContent = data[key];
    }
    const taxes = form.querySelector("[data-total='taxes']");
    taxes.replaceChildren(...data.taxes.map((tax) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      const td = document.createElement("td");
      th.textContent = tax.label;
      td.textContent = tax.amount;
      td.className = "amount";
      tr.append(th, td);
      return tr;
    }));
  }

  if (tbody) {
    document.getElementById("add-line").addEventListener("click", () => { addLine(); scheduleRefresh(); });
    tbody.addEventListener("change", (event) => {
      const row = event.target.closest("tr.line-row");
      if (row && event.target.dataset.field === "service") prefill(row);
      scheduleRefresh();
    });
    tbody.addEventListener("click", (event) => {
      if (event.target.dataset.action !== "remove-line") return;
      const row = event.target.closest("tr.line-row");
      field(row, "delete").checked = true;
      row.hidden = true;
      scheduleRefresh();
    });
  }
  // A locked invoice has no lines to edit: its totals are the stored ones.
  if (!tbody) return;
  form.addEventListener("input", scheduleRefresh);
  form.addEventListener("change", scheduleRefresh);
  refresh();
})();
