/* The web page of the ML Engineer Agent: chat, review, smoke runs and experiments over the service's own API.
 *
 * Plain browser JavaScript (no build step, nothing fetched from elsewhere). Every call goes through api() or
 * sse(), which add the API key kept in localStorage as a Bearer token; Server-Sent Events are read with
 * fetch() because EventSource can neither POST nor send an Authorization header.
 */
(function () {
  "use strict";

  const $ = function (id) { return document.getElementById(id); };
  const esc = window.MD.escapeHtml;
  const KEY_STORE = "mlagent.apiKey";
  const THREADS_STORE = "mlagent.threads";
  const CURRENT_STORE = "mlagent.currentThread";
  const MAX_COMPARE = 10;

  // ---------------------------------------------------------------------------------------------- API
  function authHeaders() {
    const key = localStorage.getItem(KEY_STORE);
    return key ? { Authorization: "Bearer " + key } : {};
  }

  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }

  async function failure(response) {
    let code = "http_" + response.status;
    let message = response.status + " " + response.statusText;
    try {
      const body = await response.json();
      if (body && body.error) { code = body.error.code; message = body.error.message; }
    } catch (ignored) { /* not JSON: keep the status line */ }
    if (response.status === 401) {
      showBanner("This server needs an API key: enter it with the key button (top right).", "error");
      $("key-panel").hidden = false;
    }
    return new ApiError(response.status, code, message);
  }

  async function api(path, options) {
    options = options || {};
    const headers = Object.assign({ Accept: "application/json" }, authHeaders());
    const init = { method: options.method || "GET", headers: headers };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    const response = await fetch(path, init);
    if (!response.ok) throw await failure(response);
    return response.status === 204 ? null : response.json();
  }

  /* POST (with a body) or GET an SSE endpoint; calls onEvent(name, data) for each event until the stream ends. */
  async function sse(path, body, onEvent, signal) {
    const headers = Object.assign({ Accept: "text/event-stream" }, authHeaders());
    const init = { method: body === null ? "GET" : "POST", headers: headers, signal: signal };
    if (body !== null) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    const response = await fetch(path, init);
    if (!response.ok) throw await failure(response);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let name = "message";
        const data = [];
        block.split("\n").forEach(function (line) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        });
        if (!data.length) continue;  // a keep-alive comment
        let parsed = data.join("\n");
        try { parsed = JSON.parse(parsed); } catch (ignored) { /* plain text data */ }
        onEvent(name, parsed);
      }
    }
  }

  function showBanner(text, kind) {
    const banner = $("banner");
    banner.textContent = text;
    banner.className = "banner " + (kind || "info");
    banner.hidden = false;
  }

  function hideBanner() { $("banner").hidden = true; }

  function errorText(error) { return error && error.message ? error.message : String(error); }

  function el(tag, className, html) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (html !== undefined) node.innerHTML = html;
    return node;
  }

  // ------------------------------------------------------------------------------------------ routing
  const loaders = {};
  function showView() {
    const name = (location.hash.replace(/^#/, "") || "chat").split("/")[0];
    const view = ["chat", "review", "smoke", "experiments"].includes(name) ? name : "chat";
    document.querySelectorAll(".view").forEach(function (section) { section.hidden = section.dataset.view !== view; });
    document.querySelectorAll(".tabs a").forEach(function (link) {
      link.classList.toggle("active", link.dataset.view === view);
    });
    document.body.dataset.view = view;
    if (loaders[view]) loaders[view]();
  }

  // ---------------------------------------------------------------------------------------- chat view
  let threads = [];
  try { threads = JSON.parse(localStorage.getItem(THREADS_STORE) || "[]"); } catch (ignored) { threads = []; }
  let currentThread = localStorage.getItem(CURRENT_STORE) || null;
  let busy = false;

  function saveThreads() { localStorage.setItem(THREADS_STORE, JSON.stringify(threads.slice(0, 200))); }

  function rememberThread(id, title) {
    const existing = threads.find(function (t) { return t.id === id; });
    if (existing) {
      existing.updated = Date.now();
      threads = [existing].concat(threads.filter(function (t) { return t.id !== id; }));
    } else {
      threads.unshift({ id: id, title: title.slice(0, 80), updated: Date.now() });
    }
    saveThreads();
    renderThreadList();
  }

  function renderThreadList() {
    const list = $("thread-list");
    list.innerHTML = "";
    threads.forEach(function (thread) {
      const item = el("li", thread.id === currentThread ? "active" : "");
      const open = el("button", "thread-open");
      open.textContent = thread.title || thread.id;
      open.title = thread.id;
      open.addEventListener("click", function () { openThread(thread.id); });
      const remove = el("button", "thread-delete icon-button", "&times;");
      remove.title = "Delete this thread on the server";
      remove.setAttribute("aria-label", "Delete thread");
      remove.addEventListener("click", function () { deleteThread(thread.id); });
      item.append(open, remove);
      list.append(item);
    });
  }

  function clearMessages() {
    $("messages").innerHTML = "";
    $("messages").append($("chat-empty-template").content.cloneNode(true));
  }

  function newThread() {
    currentThread = null;
    localStorage.removeItem(CURRENT_STORE);
    clearMessages();
    renderThreadList();
    document.body.classList.remove("threads-open");
    $("message").focus();
  }

  async function deleteThread(id) {
    try { await api("/v1/threads/" + encodeURIComponent(id), { method: "DELETE" }); } catch (error) {
      if (error.status !== 404) { showBanner("Could not delete the thread: " + errorText(error), "error"); return; }
    }
    threads = threads.filter(function (t) { return t.id !== id; });
    saveThreads();
    if (id === currentThread) newThread(); else renderThreadList();
  }

  function userBubble(text) {
    const bubble = el("div", "msg user");
    bubble.append(el("div", "body", window.MD.render(text)));
    $("messages").append(bubble);
    return bubble;
  }

  function assistantBubble() {
    const bubble = el("div", "msg assistant");
    bubble.append(el("div", "tools"), el("div", "body"));
    $("messages").append(bubble);
    return bubble;
  }

  function argsSummary(args) {
    if (!args || typeof args !== "object") return "";
    return Object.keys(args).map(function (key) {
      let value = args[key];
      if (value && typeof value === "object") value = Array.isArray(value) ? value.length + " items" : Object.keys(value).join(", ");
      value = String(value).replace(/\s+/g, " ");
      return key + "=" + (value.length > 40 ? value.slice(0, 39) + "\u2026" : value);
    }).join(", ");
  }

  /* A line a person can read at a glance; the whole result stays one click away. */
  function resultSummary(result) {
    if (result === null || result === undefined) return "";
    if (typeof result === "string") return result.replace(/\s+/g, " ").slice(0, 140);
    if (typeof result !== "object") return String(result);
    if (result.error) return "error: " + (result.error.message || result.error);
    const parts = [];
    if (typeof result.markdown === "string") {
      const first = result.markdown.split("\n").find(function (line) { return line.trim(); }) || "";
      parts.push(first.replace(/^#+\s*/, "").replace(/[*_`]/g, "").slice(0, 100));
    }
    if (result.summary && typeof result.summary === "object") {
      Object.keys(result.summary).forEach(function (k) { parts.push(k + " " + result.summary[k]); });
    }
    ["status", "steps", "loss_decreased", "message"].forEach(function (k) {
      if (result[k] !== undefined && result[k] !== null && typeof result[k] !== "object") parts.push(k + " " + result[k]);
    });
    if (Array.isArray(result.findings)) parts.push(result.findings.length + " findings");
    if (Array.isArray(result.recommendations)) parts.push(result.recommendations.length + " recommendations");
    if (result.files && typeof result.files === "object") parts.push(Object.keys(result.files).length + " files");
    return parts.length ? parts.join(", ") : Object.keys(result).slice(0, 6).join(", ");
  }

  function toolItem(bubble, call) {
    const item = el("details", "tool running");
    item.dataset.id = call.id || "";
    item.innerHTML = '<summary><span class="spinner" aria-hidden="true"></span><span class="tool-name">' +
      esc(call.name) + '</span> <span class="tool-args">' + esc(argsSummary(call.args)) +
      '</span> <span class="tool-result"></span></summary><pre class="tool-json"></pre>';
    bubble.querySelector(".tools").append(item);
    return item;
  }

  function finishTool(bubble, call) {
    let item = bubble.querySelector('.tool[data-id="' + CSS.escape(call.id || "") + '"]');
    if (!item) item = toolItem(bubble, call);
    item.classList.remove("running");
    const failed = call.result && typeof call.result === "object" && call.result.error;
    item.classList.add(failed ? "failed" : "done");
    item.querySelector(".tool-result").textContent = "\u2192 " + resultSummary(call.result);
    item.querySelector(".tool-json").textContent = JSON.stringify(call.result, null, 2);
  }

  /* A running tool's live progress (a smoke run's status and steps with their loss) on its line. */
  function toolProgress(bubble, data) {
    const running = Array.from(bubble.querySelectorAll(".tool.running")).filter(function (item) {
      return item.querySelector(".tool-name").textContent === data.tool;
    });
    // A resumed turn (after an approval) reports the approved run's progress without a new tool_start.
    const item = running[running.length - 1] || toolItem(bubble, { id: "", name: data.tool, args: {} });
    const text = data.type === "step" ? "step " + data.step + (typeof data.loss === "number" ? ", loss " + data.loss.toFixed(4) : "")
      : data.status ? String(data.status) : "";
    item.querySelector(".tool-result").textContent = "\u2026 " + text;
    item.dataset.progress = String(Number(item.dataset.progress || 0) + 1);
  }

  /* A costly run waits for the person's yes: say what would run and why, and answer with one click (the same
     as typing yes or no as the next message). */
  function approvalCard(bubble, action) {
    const card = el("div", "approval");
    const reasons = (action.reasons || []).map(function (r) { return "<li>" + esc(r) + "</li>"; }).join("");
    card.innerHTML = "<b>Approval needed</b><p>" + esc(action.summary || action.tool || "a costly action") + "</p>" +
      (reasons ? "<ul>" + reasons + "</ul>" : "") +
      '<div class="row"><button class="primary approve">Approve and run</button><button class="reject">Reject</button></div>';
    card.querySelector(".approve").addEventListener("click", function () { card.remove(); sendMessage("yes"); });
    card.querySelector(".reject").addEventListener("click", function () { card.remove(); sendMessage("no"); });
    bubble.append(card);
    scrollDown();
  }

  function scrollDown() { const box = $("messages"); box.scrollTop = box.scrollHeight; }

  async function sendMessage(text) {
    if (busy || !text.trim()) return;
    busy = true;
    $("send").disabled = true;
    hideBanner();
    const empty = $("chat-empty");
    if (empty) empty.remove();
    userBubble(text);
    const bubble = assistantBubble();
    bubble.classList.add("streaming");
    const body = bubble.querySelector(".body");
    let raw = "";
    let pending = false;
    const paint = function () {
      pending = false;
      body.innerHTML = window.MD.render(raw);
      scrollDown();
    };
    const payload = { message: text };
    if (currentThread) payload.thread_id = currentThread;
    scrollDown();
    try {
      await sse("/v1/chat/stream", payload, function (event, data) {
        if (event === "token") {
          raw += data.text;
          bubble.dataset.tokens = String(Number(bubble.dataset.tokens || 0) + 1);
          if (!pending) { pending = true; requestAnimationFrame(paint); }
        } else if (event === "tool_start") {
          raw = "";  // text before a tool call is the model thinking aloud; the server drops it too
          body.innerHTML = "";
          toolItem(bubble, data);
          scrollDown();
        } else if (event === "progress") {
          toolProgress(bubble, data);
        } else if (event === "approval_required") {
          approvalCard(bubble, data);
        } else if (event === "tool_end") {
          finishTool(bubble, data);
        } else if (event === "done") {
          bubble.querySelectorAll(".tool.running").forEach(function (item) {
            item.classList.replace("running", "done");  // the turn ended: whatever it ran has ended too
          });
          raw = data.reply;
          paint();
          currentThread = data.thread_id;
          localStorage.setItem(CURRENT_STORE, currentThread);
          rememberThread(data.thread_id, text);
        } else if (event === "error") {
          body.append(el("p", "error-text", esc(data.message || "the turn failed")));
          if (data.thread_id) { currentThread = data.thread_id; rememberThread(data.thread_id, text); }
        }
      });
    } catch (error) {
      body.append(el("p", "error-text", esc(errorText(error))));
    } finally {
      bubble.classList.remove("streaming");
      bubble.querySelectorAll(".tool.running").forEach(function (item) { item.classList.remove("running"); });
      busy = false;
      $("send").disabled = false;
      scrollDown();
    }
  }

  async function openThread(id) {
    document.body.classList.remove("threads-open");
    let history;
    try {
      history = await api("/v1/threads/" + encodeURIComponent(id));
    } catch (error) {
      if (error.status === 404) {
        threads = threads.filter(function (t) { return t.id !== id; });
        saveThreads();
        showBanner("That thread no longer exists on this server; it was removed from the list.", "info");
        newThread();
      } else {
        showBanner("Could not load the thread: " + errorText(error), "error");
      }
      return;
    }
    currentThread = id;
    localStorage.setItem(CURRENT_STORE, id);
    $("messages").innerHTML = "";
    let bubble = null;
    history.messages.forEach(function (message) {
      if (message.role === "user") { userBubble(message.content); bubble = null; return; }
      if (message.role === "system") return;
      if (!bubble) bubble = assistantBubble();
      if (message.role === "assistant") {
        (message.tool_calls || []).forEach(function (call) { toolItem(bubble, call); });
        if (message.content) bubble.querySelector(".body").innerHTML = window.MD.render(message.content);
      } else if (message.role === "tool") {
        finishTool(bubble, { id: message.tool_call_id, name: message.name, result: message.result });
      }
      if (message.interrupted) bubble.classList.add("interrupted");
    });
    if (history.pending_action) approvalCard(bubble || assistantBubble(), history.pending_action);
    renderThreadList();
    scrollDown();
  }

  // -------------------------------------------------------------------------------------- review view
  const reviewFiles = {};

  function renderReviewFiles() {
    const list = $("review-files");
    list.innerHTML = "";
    Object.keys(reviewFiles).forEach(function (name) {
      const chip = el("li", "chip", esc(name) + ' <button class="icon-button" aria-label="Remove">&times;</button>');
      chip.querySelector("button").addEventListener("click", function () { delete reviewFiles[name]; renderReviewFiles(); });
      list.append(chip);
    });
  }

  function addPasted() {
    const name = $("review-name").value.trim() || "train.py";
    const code = $("review-code").value;
    if (!code.trim()) return false;
    reviewFiles[name] = code;
    renderReviewFiles();
    return true;
  }

  function filesForReview() {
    if (!Object.keys(reviewFiles).length) addPasted();
    return Object.assign({}, reviewFiles);
  }

  const STATUS_LABEL = { pass: "pass", fail: "fail", unknown: "unknown", not_applicable: "n/a" };

  function renderCode(name, text, findings) {
    const byLine = {};
    findings.forEach(function (f) { (byLine[f.line] = byLine[f.line] || []).push(f); });
    const lines = text.replace(/\r\n?/g, "\n").split("\n");
    const highlighted = window.MD.highlight(text.replace(/\r\n?/g, "\n"), "python").split("\n");
    let html = '<div class="file"><div class="file-name">' + esc(name) + " &middot; " + findings.length +
      ' findings</div><div class="code-view">';
    lines.forEach(function (_, index) {
      const number = index + 1;
      const marks = byLine[number] || [];
      const worst = marks.some(function (f) { return f.severity === "error"; }) ? "error" : marks.length ? marks[0].severity : "";
      html += '<div class="line ' + (worst ? "has-" + worst : "") + '"><span class="ln">' + number +
        '</span><span class="src">' + (highlighted[index] || "") + "</span></div>";
      marks.forEach(function (f) {
        html += '<div class="finding ' + esc(f.severity) + '"><b>' + esc(f.rule) + "</b> " + esc(f.message) +
          (f.suggestion ? '<div class="suggestion">' + esc(f.suggestion) + "</div>" : "") + "</div>";
      });
    });
    return html + "</div></div>";
  }

  function renderDiff(diff) {
    return '<pre class="diff">' + diff.split("\n").map(function (line) {
      const cls = line.startsWith("+++") || line.startsWith("---") ? "meta" : line.startsWith("+") ? "add" :
        line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : "";
      return '<span class="' + cls + '">' + esc(line) + "</span>";
    }).join("\n") + "</pre>";
  }

  async function runReview(fix) {
    const files = filesForReview();
    const out = $("review-result");
    if (!Object.keys(files).length) { out.innerHTML = '<p class="muted">Paste or upload a file first.</p>'; return; }
    out.innerHTML = '<p class="muted">Reviewing\u2026</p>';
    let report;
    try {
      report = await api("/v1/review", { method: "POST", body: { files: files, fix: fix } });
    } catch (error) {
      out.innerHTML = '<p class="error-text">' + esc(errorText(error)) + "</p>";
      return;
    }
    const s = report.summary;
    let html = '<div class="review-summary"><span class="score">score ' + s.score + "</span> <span>" + s.errors +
      " errors</span> <span>" + s.warnings + " warnings</span> <span>" + (s.infos || 0) + " infos</span></div>";
    html += '<h3>Checklist</h3><ul class="checklist">';
    report.checklist.forEach(function (item) {
      html += '<li class="check ' + item.status + '"><span class="badge ' + item.status + '">' +
        (STATUS_LABEL[item.status] || item.status) + "</span> <b>" + esc(item.title) + "</b>" +
        (item.evidence ? '<div class="evidence">' + esc(item.evidence) + "</div>" : "") + "</li>";
    });
    html += "</ul>";
    if (fix) {
      html += "<h3>Fixes</h3>";
      if (report.diff) {
        html += renderDiff(report.diff) + '<button id="review-use-fixed">Use the fixed files and review again</button>';
      } else {
        html += '<p class="muted">No safe automatic fix applies to these files.</p>';
      }
    }
    // With fixes applied, the report judges the fixed files: show the findings on those.
    const shown = fix && report.fixed_files ? Object.assign({}, files, report.fixed_files) : files;
    html += "<h3>Findings in the " + (shown === files ? "code" : "fixed code") + "</h3>";
    Object.keys(shown).forEach(function (name) {
      const own = report.findings.filter(function (f) { return f.path === name; });
      html += renderCode(name, shown[name], own);
    });
    out.innerHTML = html;
    const use = $("review-use-fixed");
    if (use) use.addEventListener("click", function () {
      Object.assign(reviewFiles, report.fixed_files || {});
      renderReviewFiles();
      runReview(false);
    });
  }

  // --------------------------------------------------------------------------------------- loss chart
  const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#475569", "#ea580c"];

  /* An SVG line chart of one or more loss curves (step on x, loss on y). */
  function lossChart(container, series, title) {
    const names = Object.keys(series).filter(function (n) { return series[n] && series[n].length; });
    const width = Math.max(280, container.clientWidth || 600);
    const height = 260;
    const pad = { left: 52, right: 12, top: 26, bottom: 30 };
    if (!names.length) {
      container.innerHTML = '<div class="chart-empty muted">' + esc(title || "Loss curve") + ": no steps yet</div>";
      return;
    }
    let maxLen = 1;
    let lo = Infinity;
    let hi = -Infinity;
    names.forEach(function (n) {
      maxLen = Math.max(maxLen, series[n].length);
      series[n].forEach(function (v) { if (isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    });
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
    const x = function (i) { return pad.left + (maxLen <= 1 ? 0 : (i / (maxLen - 1)) * (width - pad.left - pad.right)); };
    const y = function (v) { return pad.top + (1 - (v - lo) / (hi - lo)) * (height - pad.top - pad.bottom); };
    let svg = '<svg class="loss-chart" viewBox="0 0 ' + width + " " + height + '" width="' + width + '" height="' + height +
      '" role="img" aria-label="' + esc(title || "Loss curve") + '">';
    svg += '<text x="' + pad.left + '" y="16" class="chart-title">' + esc(title || "Loss curve") + "</text>";
    for (let t = 0; t <= 4; t++) {
      const v = lo + ((hi - lo) * t) / 4;
      svg += '<line class="grid" x1="' + pad.left + '" x2="' + (width - pad.right) + '" y1="' + y(v) + '" y2="' + y(v) + '"/>';
      svg += '<text class="tick" x="' + (pad.left - 6) + '" y="' + (y(v) + 4) + '" text-anchor="end">' + v.toPrecision(3) + "</text>";
    }
    svg += '<text class="tick" x="' + pad.left + '" y="' + (height - 8) + '">step 1</text>';
    svg += '<text class="tick" x="' + (width - pad.right) + '" y="' + (height - 8) + '" text-anchor="end">step ' + maxLen + "</text>";
    names.forEach(function (n, k) {
      const points = series[n].map(function (v, i) { return isFinite(v) ? x(i).toFixed(1) + "," + y(v).toFixed(1) : null; })
        .filter(Boolean).join(" ");
      svg += '<polyline class="series" data-series="' + esc(n) + '" fill="none" stroke="' + COLORS[k % COLORS.length] +
        '" stroke-width="2" points="' + points + '"/>';
    });
    svg += "</svg>";
    let legend = "";
    if (names.length > 1) {
      legend = '<div class="legend">' + names.map(function (n, k) {
        return '<span><i style="background:' + COLORS[k % COLORS.length] + '"></i>' + esc(n) + "</span>";
      }).join("") + "</div>";
    }
    container.innerHTML = svg + legend;
  }

  // ---------------------------------------------------------------------------------------- smoke view
  const EXAMPLE = [
    "import lightning as L",
    "import torch",
    "import torch.nn as nn",
    "",
    "",
    "class TinyClassifier(L.LightningModule):",
    "    def __init__(self, lr: float = 0.05) -> None:",
    "        super().__init__()",
    "        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 4))",
    "        self.loss_fn = nn.CrossEntropyLoss()",
    "        self.example_input_array = torch.zeros(2, 3, 8, 8)",
    "",
    "    def forward(self, x):",
    "        return self.net(x)",
    "",
    "    def training_step(self, batch, batch_idx):",
    "        images, labels = batch",
    "        loss = self.loss_fn(self(images), labels)",
    "        self.log(\"train/loss\", loss)",
    "        return loss",
    "",
    "    def configure_optimizers(self):",
    "        return torch.optim.SGD(self.parameters(), lr=0.05)",
    "",
  ].join("\n");

  let smokeRun = null;

  function smokeEvent(text, cls) {
    const list = $("smoke-events");
    const item = el("li", cls || "");
    item.textContent = text;
    list.prepend(item);
    while (list.children.length > 200) list.lastChild.remove();
  }

  function smokeSummary(result) {
    const rows = [
      ["status", result.status], ["steps", result.steps], ["loss decreased", result.loss_decreased],
      ["device", result.device], ["samples/s", result.samples_per_s && result.samples_per_s.toFixed(1)],
      ["peak memory MB", result.peak_memory_mb && Math.round(result.peak_memory_mb)],
      ["duration s", result.duration_s && result.duration_s.toFixed(1)], ["experiment", result.experiment_id],
      ["error", result.error],
    ].filter(function (r) { return r[1] !== null && r[1] !== undefined && r[1] !== ""; });
    $("smoke-summary").innerHTML = '<dl class="facts">' + rows.map(function (r) {
      return "<dt>" + esc(r[0]) + "</dt><dd>" + esc(String(r[1])) + "</dd>";
    }).join("") + "</dl>";
  }

  async function startSmoke() {
    const code = $("smoke-code").value;
    if (!code.trim()) { $("smoke-status").textContent = "Paste a LightningModule (or load the example) first."; return; }
    const name = $("smoke-name").value.trim() || "model.py";
    const files = {};
    files[name] = code;
    const steps = parseInt($("smoke-steps").value, 10) || 20;
    $("smoke-events").innerHTML = "";
    $("smoke-summary").innerHTML = "";
    const losses = [];
    lossChart($("smoke-chart"), {}, "Loss curve");
    $("smoke-start").disabled = true;
    let submitted;
    try {
      submitted = await api("/v1/smoke-runs", { method: "POST", body: { files: files, steps: steps } });
    } catch (error) {
      $("smoke-status").textContent = errorText(error);
      $("smoke-start").disabled = false;
      return;
    }
    smokeRun = submitted.id;
    $("smoke-cancel").disabled = false;
    $("smoke-status").textContent = "run " + submitted.id + ": " + submitted.status;
    try {
      await sse("/v1/smoke-runs/" + encodeURIComponent(submitted.id) + "/events", null, function (event, data) {
        if (event === "status") {
          $("smoke-status").textContent = "run " + submitted.id + ": " + data.status +
            (data.position ? " (position " + data.position + ")" : "");
          smokeEvent("status: " + data.status, "status");
        } else if (event === "step") {
          losses[data.step - 1 >= 0 ? data.step - 1 : losses.length] = data.loss;
          lossChart($("smoke-chart"), { loss: losses.filter(function (v) { return v !== undefined; }) }, "Loss curve of " + submitted.id);
          smokeEvent("step " + data.step + "  loss " + Number(data.loss).toFixed(4), "step");
        } else if (event === "log") {
          smokeEvent(String(data.line || data.text || JSON.stringify(data)), "log");
        } else if (event === "done") {
          $("smoke-status").textContent = "run " + submitted.id + ": " + data.status;
          if (data.losses && data.losses.length) lossChart($("smoke-chart"), { loss: data.losses }, "Loss curve of " + submitted.id);
          smokeSummary(data);
          smokeEvent("done: " + data.status, "status");
        }
      });
    } catch (error) {
      $("smoke-status").textContent = errorText(error);
    } finally {
      smokeRun = null;
      $("smoke-start").disabled = false;
      $("smoke-cancel").disabled = true;
    }
  }

  async function cancelSmoke() {
    if (!smokeRun) return;
    try { await api("/v1/smoke-runs/" + encodeURIComponent(smokeRun), { method: "DELETE" }); } catch (error) {
      $("smoke-status").textContent = errorText(error);
    }
  }

  // ---------------------------------------------------------------------------------- experiments view
  const selected = new Set();

  function fmt(value, digits) {
    if (value === null || value === undefined) return "";
    if (typeof value !== "number" || Number.isInteger(value)) return String(value);
    return value.toFixed(digits || 4);
  }

  async function loadExperiments() {
    const body = $("exp-table").querySelector("tbody");
    let listing;
    try {
      listing = await api("/v1/experiments?limit=100");
    } catch (error) {
      body.innerHTML = '<tr><td colspan="7" class="error-text">' + esc(errorText(error)) + "</td></tr>";
      return;
    }
    if (!listing.experiments.length) {
      body.innerHTML = '<tr><td colspan="7" class="muted">No experiments yet: every smoke run is recorded as one.</td></tr>';
      return;
    }
    body.innerHTML = "";
    listing.experiments.forEach(function (exp) {
      const row = el("tr", "", '<td><input type="checkbox" aria-label="Select ' + esc(exp.id) + '"></td><td><a href="#experiments" class="exp-id">' +
        esc(exp.id) + "</a></td><td>" + esc(exp.created_at.replace("T", " ").slice(0, 19)) + '</td><td><span class="badge ' +
        esc(exp.status) + '">' + esc(exp.status) + "</span></td><td>" + exp.steps + "</td><td>" + fmt(exp.final_loss) + "</td><td>" +
        esc(exp.file_names.join(", ")) + "</td>");
      const box = row.querySelector("input");
      box.checked = selected.has(exp.id);
      box.addEventListener("change", function () {
        if (box.checked) selected.add(exp.id); else selected.delete(exp.id);
        $("exp-compare").disabled = selected.size < 2 || selected.size > MAX_COMPARE;
      });
      row.querySelector(".exp-id").addEventListener("click", function (event) { event.preventDefault(); showExperiment(exp.id); });
      body.append(row);
    });
    $("exp-compare").disabled = selected.size < 2 || selected.size > MAX_COMPARE;
  }

  async function showExperiment(id) {
    try {
      const exp = await api("/v1/experiments/" + encodeURIComponent(id));
      const series = {};
      series[id] = exp.metrics.losses;
      lossChart($("exp-chart"), series, "Loss curve of " + id + " (" + exp.metrics.status + ")");
      $("exp-compare-table").innerHTML = "";
    } catch (error) {
      $("exp-chart").innerHTML = '<p class="error-text">' + esc(errorText(error)) + "</p>";
    }
  }

  async function compareExperiments() {
    const ids = Array.from(selected);
    let comparison;
    try {
      comparison = await api("/v1/experiments/compare?ids=" + encodeURIComponent(ids.join(",")));
    } catch (error) {
      $("exp-compare-table").innerHTML = '<p class="error-text">' + esc(errorText(error)) + "</p>";
      return;
    }
    lossChart($("exp-chart"), comparison.loss_curves, "Loss curves (" + ids.length + " experiments)");
    const columns = ["status", "steps", "seed", "device", "first_loss", "final_loss", "min_loss", "loss_decreased", "samples_per_s"];
    let html = '<div class="table-wrap"><table class="compare"><thead><tr><th></th>' +
      comparison.rows.map(function (r) { return "<th>" + esc(r.id) + "</th>"; }).join("") + "</tr></thead><tbody>";
    columns.forEach(function (c) {
      html += "<tr><th>" + esc(c) + "</th>" + comparison.rows.map(function (r) { return "<td>" + esc(fmt(r[c])) + "</td>"; }).join("") + "</tr>";
    });
    html += "</tbody></table></div>";
    const differences = Object.keys(comparison.differences || {});
    html += '<p class="muted">' + (comparison.same_code ? "Same code." : "Different code.") +
      (differences.length ? " Differs in: " + esc(differences.join(", ")) + "." : "") + "</p>";
    $("exp-compare-table").innerHTML = html;
  }

  // ------------------------------------------------------------------------------------------- wiring
  function init() {
    const template = document.createElement("template");
    template.id = "chat-empty-template";
    template.innerHTML = $("chat-empty").outerHTML;
    document.body.append(template);

    $("api-key").value = localStorage.getItem(KEY_STORE) || "";
    $("key-toggle").addEventListener("click", function () { $("key-panel").hidden = !$("key-panel").hidden; });
    $("key-save").addEventListener("click", function () {
      const key = $("api-key").value.trim();
      if (key) localStorage.setItem(KEY_STORE, key); else localStorage.removeItem(KEY_STORE);
      $("key-panel").hidden = true;
      hideBanner();
    });
    $("menu-toggle").addEventListener("click", function () { document.body.classList.toggle("threads-open"); });
    $("new-thread").addEventListener("click", newThread);
    $("composer").addEventListener("submit", function (event) {
      event.preventDefault();
      const text = $("message").value;
      $("message").value = "";
      sendMessage(text);
    });
    $("message").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    });
    $("review-add").addEventListener("click", function () { if (addPasted()) $("review-code").value = ""; });
    $("review-upload").addEventListener("change", function (event) {
      Array.from(event.target.files).forEach(function (file) {
        file.text().then(function (text) { reviewFiles[file.name] = text; renderReviewFiles(); });
      });
    });
    $("review-run").addEventListener("click", function () { runReview(false); });
    $("review-fix").addEventListener("click", function () { runReview(true); });
    $("smoke-example").addEventListener("click", function () { $("smoke-code").value = EXAMPLE; });
    $("smoke-start").addEventListener("click", startSmoke);
    $("smoke-cancel").addEventListener("click", cancelSmoke);
    $("exp-refresh").addEventListener("click", loadExperiments);
    $("exp-compare").addEventListener("click", compareExperiments);
    loaders.experiments = loadExperiments;
    window.addEventListener("hashchange", showView);
    renderThreadList();
    showView();
    if (currentThread) openThread(currentThread);
  }

  init();
})();
