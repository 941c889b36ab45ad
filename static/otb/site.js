// Behaviour of every office page, from a file: the Content-Security-Policy runs no inline
// script or event handler.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-otb-print]")) {
    window.print();
  }
});
