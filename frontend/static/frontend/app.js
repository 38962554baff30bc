/* Gasang dashboard: a little progressive JavaScript, no build step. Every page works without it
   (forms post normally); with it: live fragments, drag-and-drop uploads with per-file progress,
   the before/after slider and copy buttons. */
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* ---- live fragments: an element with data-poll is re-fetched until the server stops asking ---- */
  function schedulePoll(el) {
    var interval = parseInt(el.getAttribute("data-poll-interval") || "1500", 10);
    setTimeout(function () { poll(el); }, interval);
  }

  function poll(el) {
    if (!document.body.contains(el)) return;
    fetch(el.getAttribute("data-poll"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var box = document.createElement("div");
        box.innerHTML = html.trim();
        var fresh = box.firstElementChild;
        if (!fresh) return;
        // A keyboard user on a button inside the fragment keeps their place: refocus its fresh twin by id.
        var focused = el.contains(document.activeElement) ? document.activeElement.id : "";
        el.replaceWith(fresh);
        enhance(fresh);
        var again = focused && document.getElementById(focused);
        if (again) again.focus();
      })
      .catch(function () { schedulePoll(el); });  // a dropped request: try again at the same pace
  }

  /* ---- before/after comparison ---- */
  function setupCompare(card) {
    var range = card.querySelector(".compare-range");
    var after = card.querySelector(".compare .after");
    if (!range || !after) return;
    var box = card.querySelector(".compare");
    function apply() {
      after.style.clipPath = "inset(0 0 0 " + range.value + "%)";
      box.style.setProperty("--pos", range.value + "%");
      range.setAttribute("aria-valuetext", range.value + "%");
    }
    range.addEventListener("input", apply);
    apply();
  }

  /* ---- uploads ---- */
  /* The API explains a refused file in English; the page says it in its own language by the error code. */
  function localError(list, body) {
    var code = body.code || "";
    if (code === "unsupported_format" && /HEIC|HEIF/.test(body.detail || "")) code = "heic";
    return list.getAttribute("data-error-" + code);
  }

  function errorText(xhr, labels, list) {
    try {
      var body = JSON.parse(xhr.responseText);
      var local = localError(list, body);
      if (local && document.documentElement.lang !== "en") return local;
      if (body.detail) return body.detail;
      if (body.errors) {
        return Object.keys(body.errors).map(function (k) { return [].concat(body.errors[k]).join(" "); }).join(" ");
      }
    } catch (e) { /* not JSON: fall through */ }
    return xhr.status ? labels.server + " (" + xhr.status + ")" : labels.network;
  }

  function uploadOne(zone, list, file, done) {
    var labels = {
      done: list.getAttribute("data-label-done"), failed: list.getAttribute("data-label-failed"),
      network: list.getAttribute("data-label-network"), server: list.getAttribute("data-label-server"),
    };
    var item = document.createElement("li");
    item.className = "upload-item";
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    var status = document.createElement("span");
    status.className = "upload-status";
    status.textContent = "0%";
    item.append(name, bar, status);
    list.appendChild(item);

    var form = new FormData();
    form.append("file", file);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", zone.getAttribute("data-upload-url"));
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        var pct = Math.round((100 * e.loaded) / e.total);
        bar.value = pct; status.textContent = pct + "%";
      }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status === 201) {
        bar.value = 100; item.classList.add("ok"); status.textContent = labels.done;
      } else {
        item.classList.add("failed"); status.textContent = labels.failed + ": " + errorText(xhr, labels, list);
        status.setAttribute("role", "alert");
      }
      done();
    });
    xhr.addEventListener("error", function () {
      item.classList.add("failed"); status.textContent = labels.failed + ": " + labels.network;
      status.setAttribute("role", "alert");
      done();
    });
    xhr.send(form);
  }

  function refreshTarget(zone) {
    var target = document.querySelector(zone.getAttribute("data-refresh"));
    if (!target) return;
    target.setAttribute("data-poll", location.pathname + "?fragment=1");
    poll(target);
  }

  function uploadFiles(zone, files) {
    var list = zone.parentNode.querySelector(".upload-list");
    var pending = files.length;
    if (!pending) return;
    zone.classList.add("busy");
    Array.prototype.forEach.call(files, function (file) {
      uploadOne(zone, list, file, function () {
        pending -= 1;
        if (pending === 0) { zone.classList.remove("busy"); refreshTarget(zone); }
      });
    });
  }

  function setupDropzone(zone) {
    var input = zone.querySelector("input[type=file]");
    input.addEventListener("change", function () { uploadFiles(zone, input.files); input.value = ""; });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) { uploadFiles(zone, e.dataTransfer.files); });
  }

  /* ---- small helpers: copy a secret, select all ---- */
  function setupCopy(button) {
    button.addEventListener("click", function () {
      var source = document.querySelector(button.getAttribute("data-copy"));
      source.select();
      var finish = function () { button.textContent = button.getAttribute("data-copied"); };
      if (navigator.clipboard) navigator.clipboard.writeText(source.value).then(finish, finish);
      else { document.execCommand("copy"); finish(); }
    });
  }

  function setupCheckAll(box) {
    box.addEventListener("change", function () {
      box.form.querySelectorAll("input[name=" + box.getAttribute("data-check-all") + "]")
        .forEach(function (c) { c.checked = box.checked; });
    });
  }

  function setupAutosubmit(select) {
    select.addEventListener("change", function () { select.form.submit(); });
    var hide = select.form.querySelector(".js-hide");
    if (hide) hide.hidden = true;
  }

  function each(root, selector, fn) {
    if (root.matches && root.matches(selector)) fn(root);
    root.querySelectorAll(selector).forEach(fn);
  }

  function enhance(root) {
    each(root, "[data-poll]", schedulePoll);
    each(root, ".job-card", setupCompare);
    each(root, ".dropzone", setupDropzone);
    each(root, "[data-copy]", setupCopy);
    each(root, "[data-check-all]", setupCheckAll);
    each(root, "[data-autosubmit]", setupAutosubmit);
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
})();
