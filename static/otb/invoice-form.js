// The invoice form: add and remove lines, prefill a line from a saved service (at its price
// in the invoice's currency), and show the totals the server computes (billing.money, the
// same function a save uses) as the user types, with a warning beside each line priced from
// a service in another currency.
(function () {
  "use strict";
  const form = document.getElementById("invoice-form");
  if (!form) return;
  const services = JSON.parse(document.getElementById("services-data").textContent);
  const tbody = document.querySelector("#lines tbody");
  const template = document.getElementById("empty-line");
  const totalForms = form.querySelector("input[name='lines-TOTAL_FORMS']");

  const currencySelect = form.querySelector("select[name='currency']");
  // The currency the lines are priced in: the one chosen, else the client's as the server
  // last said ("" until a client is chosen).
  let currency = form.dataset.currency || "";

  function field(row, name) { return row.querySelector(`[data-field='${name}']`); }

  // The price a line takes from a service (billing.rules.price_from_service): its price in
  // the invoice's currency if it has one, else its default one, in the base currency.
  function priceOf(service) {
    return (service.prices || {})[currency] || service.unit_price;
  }

  // "95.50" and "95.5000" are the same price (compared as text: no float near money).
  function samePrice(a, b) {
    const plain = (text) => {
      let value = String(text).trim();
      if (value.includes(".")) value = value.replace(/0+$/, "").replace(/\.$/, "");
      return value;
    };
    return plain(a) === plain(b);
  }

  // Whether a line's price is one its service gives (in any currency), or empty: such a
  // price follows the invoice's currency; one the user typed stays.
  function fromService(row, service) {
    const value = field(row, "unit_price").value;
    return !value.trim() ||
      [service.unit_price, ...Object.values(service.prices || {})].some((p) => samePrice(p, value));
  }

  function prefill(row) {
    const service = services[field(row, "service").value];
    if (!service) return;
    // Only fill what the user has not typed yet.
    for (const name of ["description", "unit"]) {
      const input = field(row, name);
      if (!input.value.trim()) input.value = service[name];
    }
    const price = field(row, "unit_price");
    if (!price.value.trim()) price.value = priceOf(service);
    field(row, "taxable").checked = service.taxable;
  }

  // The invoice's currency changed (chosen, or another client's): each line priced from its
  // service takes the service's price in it. True when a price changed.
  function setCurrency(code) {
    if (!code || code === currency) return false;
    currency = code;
    let changed = false;
    for (const row of visibleRows()) {
      const service = services[field(row, "service").value];
      if (!service || !fromService(row, service)) continue;
      const input = field(row, "unit_price");
      if (!samePrice(input.value, priceOf(service))) {
        input.value = priceOf(service);
        changed = true;
      }
    }
    return changed;
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
    // The client's currency, once the server knows the client: the prices follow it, and
    // the totals are asked for again with them.
    if (data.ok && setCurrency(data.currency)) {
      scheduleRefresh();
      return;
    }
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
    visibleRows().forEach((row) => {
      field(row, "amount").textContent = "";
      field(row, "price_warning").hidden = true;
    });
    counted.forEach((row, i) => {
      field(row, "amount").textContent = data.lines[i] || "";
      const warning = field(row, "price_warning");
      warning.textContent = data.warnings[i] || "";
      warning.hidden = !data.warnings[i];
    });
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
    if (currencySelect) {
      // A currency chosen reprices the lines at once; "the client's" waits for the server.
      currencySelect.addEventListener("change", () => { setCurrency(currencySelect.value); });
    }
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
