/* flowopt plan viewer, investment panel: which of the plan's projects to build.
 *
 * "Which projects to build?" reads GET /viewer/investment: the answer of POST /v1/investments
 * (flowopt invest --json) for the bundled investment scenario (data/panzhihua_east_invest: the
 * 2023 network with the plan's projects as candidates), at its own target. A read like the plan
 * (no key unless reads need one); when the answer takes longer than the server's short wait it
 * is a job, which the panel follows. It shows the least-cost build set and, project by project,
 * what is built (size, capital, capital per year) and what is not (and at what capital it would
 * be). Plain JavaScript, no libraries; the language follows the page's (<html lang>).
 */
(function () {
  "use strict";

  var POLL_MS = 400;
  var POLL_LIMIT_MS = 300000;

  var TEXT = {
    en: {
      investTitle: "Which projects to build?",
      investHint: "The plan's projects as candidates on top of the 2023 network, each with its capital cost: the least-cost set that reaches the target, annualized capital included (flowopt invest).",
      run: "Show the least-cost build set",
      queued: "Waiting for a solver…",
      running: "Solving the investment model…",
      failed: "The investment run failed: ",
      keyNeeded: "This server needs an API key for reads. Paste one under “API key” (top right) and press Save.",
      headline: function (r) { return "Least-cost build set for " + pct(r.target, 1) + ": " + money(r.objective_cny) + " per year, annualized capital included; capital " + money(r.capital_cny) + "."; },
      status: { optimal: "proven optimal", feasible: "NOT proven optimal (a limit stopped the solve)", infeasible: "no build set reaches the target" },
      cols: ["Project", "Decision", "Capacity added", "Capital", "Capital per year", "Why"],
      built: "built", notBuilt: "not built", unavailable: "not available this year",
      perYear: "/yr",
      breakEven: function (b) { return b.factor == null ? "would not be built at any capital" : "built if its capital were at most " + pct(b.factor, 0) + " of today's"; },
      value: function (v) { return v.feasible ? "the other way: +" + money(v.value_cny) + "/yr" : "required"; }
    },
    zh: {
      investTitle: "建设哪些项目？",
      investHint: "以 2023 年网络为基础、规划项目为候选并计入各自投资：达到目标的年总成本（含投资年值）最低的建设方案（flowopt invest）。",
      run: "显示最低成本建设方案",
      queued: "等待求解进程…",
      running: "正在求解投资模型…",
      failed: "投资优化失败：",
      keyNeeded: "本服务器读取数据需要 API 密钥。请在右上角“API 密钥”中粘贴密钥并点击保存。",
      headline: function (r) { return "实现 " + pct(r.target, 1) + " 的最低成本建设方案：年总成本 " + money(r.objective_cny) + "（含投资年值），投资 " + money(r.capital_cny) + "。"; },
      status: { optimal: "已证明最优", feasible: "未证明最优（求解达到限制）", infeasible: "任何建设方案都无法达到目标" },
      cols: ["项目", "决策", "新增能力", "投资", "投资年值", "说明"],
      built: "建设", notBuilt: "不建", unavailable: "当年不可建",
      perYear: "/年",
      breakEven: function (b) { return b.factor == null ? "投资多低都不会建设" : "投资不超过现估算的 " + pct(b.factor, 0) + " 时会建设"; },
      value: function (v) { return v.feasible ? "反之年成本 +" + money(v.value_cny) : "必须建设"; }
    }
  };

  var state = { result: null, running: false, status: null, error: null };

  function $(id) { return document.getElementById(id); }
  function lang() { return (document.documentElement.lang || "en").toLowerCase().indexOf("zh") === 0 ? "zh" : "en"; }
  function t() { return TEXT[lang()]; }
  function pct(x, digits) { return x == null ? "–" : (x < 0 ? "\u2212" : "") + (Math.abs(x) * 100).toFixed(digits) + "%"; }
  function money(x) {
    if (x == null) return "–";
    var sign = x < 0 ? "\u2212" : "";
    if (lang() === "zh") return sign + (Math.abs(x) / 1e8).toFixed(2) + " 亿元";
    return sign + (Math.abs(x) / 1e6).toFixed(1) + " M CNY";
  }
  function tonnes(x) { return x == null ? "–" : (lang() === "zh" ? (x / 1e4).toLocaleString("en-US", { maximumFractionDigits: 1 }) + " 万吨/年" : (x / 1e6).toLocaleString("en-US", { maximumFractionDigits: 2 }) + " Mt/yr"); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function headers() {
    var h = { Accept: "application/json" };
    var k = "";
    try { k = window.localStorage.getItem("flowopt.apiKey") || ""; } catch (e) { /* private mode */ }
    if (k) h["X-API-Key"] = k;
    return h;
  }

  async function get(url) {
    var r = await fetch(url, { method: "GET", headers: headers(), cache: "no-store" });
    var text = await r.text(), doc = null;
    try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = { detail: text.slice(0, 300) }; }
    return { status: r.status, doc: doc, location: r.headers.get("Location") };
  }

  function problemText(doc, status) {
    var d = doc || {};
    if (status === 401) return t().keyNeeded;
    return t().failed + ((lang() === "zh" ? d.detail_zh : d.detail) || d.detail || ("HTTP " + status));
  }

  async function run() {
    if (state.running) return;
    state.running = true;
    state.error = null;
    state.status = t().queued;
    render();
    try {
      var r = await get("/viewer/investment"), doc = null;
      if (r.status === 200 || r.status === 201) doc = r.doc;
      else if (r.status !== 202) throw { doc: r.doc, status: r.status };
      else {
        var jobUrl = r.location || (r.doc && r.doc.url), deadline = Date.now() + POLL_LIMIT_MS;
        for (;;) {
          await sleep(POLL_MS);
          var j = await get(jobUrl);
          if (j.status !== 200) throw { doc: j.doc, status: j.status };
          if (j.doc.status === "succeeded") { doc = j.doc.result; break; }
          if (j.doc.status === "failed") throw { doc: j.doc.error, status: (j.doc.error && j.doc.error.status) || 500 };
          if (Date.now() > deadline) throw { doc: { detail: "The investment run did not finish in time; see " + jobUrl }, status: 504 };
          state.status = j.doc.status === "running" ? t().running : t().queued;
          render();
        }
      }
      state.result = doc;
      state.status = null;
    } catch (e) {
      state.error = e && e.status ? problemText(e.doc, e.status) : t().failed + (e && e.message ? e.message : String(e));
      state.status = null;
    } finally {
      state.running = false;
      render();
    }
  }

  function renderTable(box, r) {
    box.textContent = "";
    var tx = t(), zh = lang() === "zh";
    var values = {}, evens = {};
    (r.decision_values || []).forEach(function (v) { values[v.id] = v; });
    (r.build_break_even || []).forEach(function (b) { evens[b.id] = b; });
    var table = el("table", "invest-table");
    var head = el("tr");
    tx.cols.forEach(function (c) { head.appendChild(el("th", null, c)); });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el("tbody");
    var rows = (r.builds || []).slice().sort(function (a, b) { return (b.built - a.built) || (a.id < b.id ? -1 : 1); });
    rows.forEach(function (b) {
      var tr = el("tr", b.built ? "built" : "not-built");
      tr.dataset.candidate = b.id;
      tr.dataset.built = String(b.built);
      var name = el("td");
      name.appendChild(el("span", "invest-id", b.id + " "));
      name.appendChild(el("span", null, (zh ? b.name_zh : b.name_en) || ""));
      tr.appendChild(name);
      tr.appendChild(el("td", "invest-decision", b.built ? tx.built : (b.available === false ? tx.unavailable : tx.notBuilt)));
      tr.appendChild(el("td", "num", b.built ? tonnes(b.size_t) : "–"));
      tr.appendChild(el("td", "num", b.built ? money(b.capital_cny) : "–"));
      tr.appendChild(el("td", "num", b.built ? money(b.annualized_cny) + tx.perYear : "–"));
      var why = values[b.id] ? tx.value(values[b.id]) : "";
      if (!b.built && evens[b.id]) why = tx.breakEven(evens[b.id]);
      tr.appendChild(el("td", "invest-why", why));
      body.appendChild(tr);
    });
    table.appendChild(body);
    box.appendChild(table);
  }

  function render() {
    var tx = t();
    Array.prototype.forEach.call(document.querySelectorAll("[data-invest-i18n]"), function (e) {
      var v = tx[e.getAttribute("data-invest-i18n")];
      if (typeof v === "string") e.textContent = v;
    });
    var button = $("invest-run");
    button.textContent = tx.run;
    button.disabled = state.running;
    var status = $("invest-status");
    status.textContent = state.error || state.status || "";
    status.classList.toggle("invest-error", !!state.error);
    var r = state.result, box = $("invest-result");
    box.hidden = !r;
    if (!r) return;
    box.dataset.status = r.status;
    $("invest-headline").textContent = r.status === "infeasible" ? ((lang() === "zh" ? r.statement_zh : r.statement) || tx.status.infeasible) : tx.headline(r) + " (" + (tx.status[r.status] || r.status) + ")";
    $("invest-rate").textContent = r.utilization_rate == null ? "" : (lang() === "zh" ? "达到 " : "Rate reached ") + pct(r.utilization_rate, 2);
    renderTable($("invest-table"), r);
  }

  function init() {
    if (!$("invest-run")) return;
    $("invest-run").addEventListener("click", run);
    new MutationObserver(render).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
    render();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
