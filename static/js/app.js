// Pithead pages work without this file; it only adds comfort on top of htmx.
document.addEventListener("htmx:responseError", function (event) {
  // Show server-rendered error fragments (4xx) in place instead of silently doing nothing.
  var xhr = event.detail.xhr;
  if (xhr.status >= 400 && xhr.status < 500 && event.detail.target) {
    event.detail.target.innerHTML = xhr.responseText;
  }
});
