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
    var toggle = card.querySelector(".closeup-toggle");
    function zoomed() { return toggle && toggle.getAttribute("aria-pressed") === "true"; }
    function apply() {
      var cut = parseFloat(range.value);
      if (zoomed()) {
        // The images are scaled around the face: the slider's line (on the frame) falls on this image column.
        var scale = parseFloat(box.getAttribute("data-zoom-scale"));
        var x = parseFloat(box.getAttribute("data-zoom-x"));
        cut = Math.max(0, Math.min(100, x + (cut - 50) / scale));
      }
      after.style.clipPath = "inset(0 0 0 " + cut.toFixed(2) + "%)";
      box.style.setProperty("--pos", range.value + "%");
      range.setAttribute("aria-valuetext", range.value + "%");
    }
    range.addEventListener("input", apply);
    if (toggle) setupCloseup(card, box, toggle, apply);
    apply();
  }

  /* ---- face close-up: both images scaled around the swapped face, at the image's full resolution ---- */
  function setupCloseup(card, box, toggle, apply) {
    function show(on) {
      var transform = "";
      if (on) {
        var x = box.getAttribute("data-zoom-x"), y = box.getAttribute("data-zoom-y");
        transform = "translate(50%, 50%) scale(" + box.getAttribute("data-zoom-scale") + ") translate(-" + x +
          "%, -" + y + "%)";
      }
      card.querySelectorAll(".compare img").forEach(function (img) { img.style.transform = transform; });
      box.classList.toggle("zoomed", on);
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      apply();
    }
    toggle.addEventListener("click", function () { show(!(toggle.getAttribute("aria-pressed") === "true")); });
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

  /* A drop zone inside a form sends the form's other fields (a consent attestation) with each file, and shows
     the form's field errors next to the fields. An answer with a check_url is followed until the server has
     checked the file (a face: found, large enough, facing the camera). */
  function uploadBody(zone, input, file) {
    var owner = zone.closest("form");
    var form = owner ? new FormData(owner) : new FormData();
    form.delete(input.name);
    form.append(input.name, file);
    return form;
  }

  function showFieldErrors(zone, body) {
    var owner = zone.closest("form");
    if (!owner) return;
    owner.querySelectorAll(".field .error, [data-upload-error]").forEach(function (e) { e.remove(); });
    owner.querySelectorAll(".field.invalid").forEach(function (f) { f.classList.remove("invalid"); });
    var errors = (body && body.errors) || {};
    Object.keys(errors).forEach(function (name) {
      var control = owner.querySelector("[name='" + name + "']:not([type=file])");
      var field = control && control.closest(".field");
      if (!field) return;
      field.classList.add("invalid");
      [].concat(errors[name]).forEach(function (message) {
        var p = document.createElement("p");
        p.className = "error"; p.textContent = message;
        p.setAttribute("role", "alert"); p.setAttribute("data-upload-error", "");
        field.appendChild(p);
      });
    });
  }

  function followCheck(url, item, status, labels) {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (check) { showCheck(check, item, status, labels); })
      .catch(function () { setTimeout(function () { followCheck(url, item, status, labels); }, 3000); });
  }

  function showCheck(check, item, status, labels) {
    item.setAttribute("data-state", check.state);
    if (check.state === "checking") {
      status.textContent = labels.done + " · " + check.text;
      setTimeout(function () { followCheck(check.check_url, item, status, labels); }, 1500);
      return;
    }
    item.classList.remove("checking");
    item.classList.add(check.state === "refused" ? "failed" : "ok");
    status.textContent = check.text;
    if (check.state === "refused") status.setAttribute("role", "alert");
  }

  function uploadOne(zone, list, input, file, done) {
    var labels = {
      done: list.getAttribute("data-label-done"), failed: list.getAttribute("data-label-failed"),
      network: list.getAttribute("data-label-network"), server: list.getAttribute("data-label-server"),
      uploading: list.getAttribute("data-label-uploading"), retrying: list.getAttribute("data-label-retrying"),
    };
    var item = document.createElement("li");
    item.className = "upload-item";
    item.setAttribute("data-state", "uploading");
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    var status = document.createElement("span");
    status.className = "upload-status";
    var uploading = labels.uploading ? labels.uploading + " " : "";
    status.textContent = uploading + "0%";
    item.append(name, bar, status);
    list.appendChild(item);

    send(0);

    function send(attempt) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", zone.getAttribute("data-upload-url"));
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var pct = Math.round((100 * e.loaded) / e.total);
          bar.value = pct; status.textContent = uploading + pct + "%";
        }
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        var wait = retryDelay(xhr);
        if (wait !== null && attempt < UPLOAD_RETRIES) {
          // Busy or restarting (503/429 with Retry-After): the file was not taken, so send it again.
          item.setAttribute("data-state", "waiting");
          status.textContent = labels.retrying || labels.server;
          setTimeout(function () { send(attempt + 1); }, wait);
          return;
        }
        if (xhr.status === 201) {
          bar.value = 100; status.textContent = labels.done;
          showFieldErrors(zone, null);
          if (body && body.check_url) { item.classList.add("checking"); showCheck(body, item, status, labels); }
          else { item.classList.add("ok"); item.setAttribute("data-state", "done"); }
        } else {
          item.classList.add("failed"); item.setAttribute("data-state", "failed");
          var formFields = body && body.errors && Object.keys(body.errors).some(function (k) { return k !== "file"; });
          var said = formFields && list.getAttribute("data-label-form") || errorText(xhr, labels, list);
          status.textContent = labels.failed + ": " + said;
          status.setAttribute("role", "alert");
          showFieldErrors(zone, body);
        }
        done();
      });
      xhr.addEventListener("error", function () {
        item.classList.add("failed"); item.setAttribute("data-state", "failed");
        status.textContent = labels.failed + ": " + labels.network;
        status.setAttribute("role", "alert");
        done();
      });
      xhr.send(uploadBody(zone, input, file));
    }
  }

  var UPLOAD_RETRIES = 3;
  var MAX_RETRY_MS = 30000;

  /* Milliseconds to wait before sending again, or null when the answer is not "busy, come back later". */
  function retryDelay(xhr) {
    if (xhr.status !== 503 && xhr.status !== 429) return null;
    var seconds = parseInt(xhr.getResponseHeader("Retry-After"), 10);
    if (isNaN(seconds)) return null;
    return Math.min(Math.max(seconds, 1) * 1000, MAX_RETRY_MS);
  }

  function refreshTarget(zone) {
    var target = document.querySelector(zone.getAttribute("data-refresh"));
    if (!target) return;
    target.setAttribute("data-poll", location.pathname + "?fragment=1");
    poll(target);
  }

  function uploadFiles(zone, input, files) {
    var list = zone.parentNode.querySelector(".upload-list");
    var pending = files.length;
    if (!pending) return;
    zone.classList.add("busy");
    Array.prototype.forEach.call(files, function (file) {
      uploadOne(zone, list, input, file, function () {
        pending -= 1;
        if (pending === 0) { zone.classList.remove("busy"); refreshTarget(zone); }
      });
    });
  }

  function setupDropzone(zone) {
    var input = zone.querySelector("input[type=file]");
    var owner = zone.closest("form");
    if (owner) {
      // Files go up one by one as soon as they are chosen; the form's own submit is the no-script way.
      owner.querySelectorAll("[data-upload-fallback]").forEach(function (b) { b.hidden = true; });
      owner.addEventListener("submit", function (e) { e.preventDefault(); });
    }
    function sendChosen() {
      var files = Array.prototype.slice.call(input.files);
      input.value = "";
      uploadFiles(zone, input, files);
    }
    input.addEventListener("change", sendChosen);
    // On a slow connection a seller can pick files before this script has run: their change event is gone.
    if (input.files && input.files.length) sendChosen();
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) { uploadFiles(zone, input, e.dataTransfer.files); });
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

  /* ---- the pipeline's start page: credits for the ticked shots ---- */
  function setupCost(form) {
    var price = parseInt(form.getAttribute("data-price"), 10) || 0;
    var left = parseInt(form.getAttribute("data-left"), 10) || 0;
    var count = form.querySelector("[data-chosen-count]"), total = form.querySelector("[data-chosen-total]");
    var over = form.querySelector("#cost-over");
    function update() {
      var n = form.querySelectorAll("input[name=product_shots]:checked").length;
      if (count) count.textContent = n;
      if (total) total.textContent = n * price;
      if (over) over.hidden = n * price <= left;
    }
    form.addEventListener("change", update);
    update();
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
    each(root, "[data-cost-form]", setupCost);
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
})();
