// Behaviour of every office page, from a file: the Content-Security-Policy runs no inline
// script or event handler.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-otb-print]")) {
    window.print();
  }
});

// A client box (billing.forms.invoices.ClientChoiceField) offers the clients matching what
// is typed, asked of the server: the list of ten thousand clients never goes to the page.
(function () {
  "use strict";
  for (const input of document.querySelectorAll("input[data-client-lookup]")) {
    const list = document.createElement("datalist");
    list.id = input.getAttribute("list");
    input.after(list);
    let timer = null;
    let asked = "";
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const query = input.value.trim();
        if (!query || query === asked) return;
        asked = query;
        let data;
        try {
          const url = `${input.dataset.clientLookup}?${new URLSearchParams({ q: query })}`;
          const response = await fetch(url, { credentials: "same-origin" });
          data = await response.json();
        } catch (error) {
          return; // offline: the code typed is still checked when the form is saved
        }
        if (query !== input.value.trim()) return; // typed on since: a newer answer comes
        list.replaceChildren(...data.clients.map((client) => {
          const option = document.createElement("option");
          option.value = client.code;
          option.label = client.label;
          option.textContent = client.label;
          return option;
        }));
      }, 150);
    });
  }
})();
