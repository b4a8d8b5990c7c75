/* flowopt plan viewer, risk panel: how likely the target on the slider is.
 *
 * "Estimate the probability" sends POST /v1/risks for the bundled park (its uncertainty table)
 * at the target the slider shows, follows the job (its progress: samples solved), then shows the
 * probability that the target is reachable with its 95 % interval and the tornado: which
 * uncertain input moves the highest reachable rate most. Plain JavaScript, no libraries; the
 * language follows the page's (<html lang>, set by viewer.js).
 */
(function () {
  "use strict";

  var SCENARIO = "panzhihua_east_2025";
  var SAMPLES = 256;
  var POLL_MS = 400;
  var POLL_LIMIT_MS = 300000;
  var TOP_BARS = 6;

  var TEXT = {
    en: {
      riskTitle: "How likely is the target?",
      riskHint: "Samples the uncertain estimates of the park's data (its uncertainty table), solves each sample, and counts how often the target can be reached.",
      run: function (target) { return "Estimate the probability of " + pct(target, 1); },
      queued: "Waiting for a solver…",
      running: function (p) { return p ? "Solving samples: " + p.done + " of " + p.total : "Solving samples…"; },
      probability: function (target) { return "Probability that " + pct(target, 1) + " is reachable"; },
      interval: function (r) { return "95 % interval " + pct(r.probability.low, 1) + "–" + pct(r.probability.high, 1) + " · " + r.probability.n + " samples" + (r.failed ? " · " + r.failed + " failed" : "") + (r.stopped_early ? " · stopped early" : ""); },
      spread: function (m) { return "Highest reachable rate over the samples: P10 " + pct(m.p10, 1) + ", P50 " + pct(m.p50, 1) + ", P90 " + pct(m.p90, 1); },
      tornado: "What moves the highest reachable rate most (each input alone, low → high):",
      keyNeeded: "This server needs an API key for risk runs. Paste one under “API key” (top right) and press Save.",
      failed: "The risk run failed: "
    },
    zh: {
      riskTitle: "达标的可能性有多大？",
      riskHint: "对园区数据中的不确定估计（uncertainty 表）抽样，逐一求解，统计能够达到目标的比例。",
      run: function (target) { return "估算达到 " + pct(target, 1) + " 的概率"; },
      queued: "等待求解进程…",
      running: function (p) { return p ? "正在求解样本：" + p.done + " / " + p.total : "正在求解样本…"; },
      probability: function (target) { return "达到 " + pct(target, 1) + " 的概率"; },
      interval: function (r) { return "95% 区间 " + pct(r.probability.low, 1) + "–" + pct(r.probability.high, 1) + " · " + r.probability.n + " 个样本" + (r.failed ? " · 失败 " + r.failed + " 个" : "") + (r.stopped_early ? " · 已提前停止" : ""); },
      spread: function (m) { return "各样本的最高可达利用率：P10 " + pct(m.p10, 1) + "，P50 " + pct(m.p50, 1) + "，P90 " + pct(m.p90, 1); },
      tornado: "对最高可达利用率影响最大的输入（逐一变动，低值 → 高值）：",
      keyNeeded: "本服务器运行概率分析需要 API 密钥。请在右上角“API 密钥”中粘贴密钥并点击保存。",
      failed: "概率分析失败："
    }
  };

  var state = { result: null, running: false, status: null, error: null };

  function $(id) { return document.getElementById(id); }
  function lang() { return (document.documentElement.lang || "en").toLowerCase().indexOf("zh") === 0 ? "zh" : "en"; }
  function t() { return TEXT[lang()]; }
  function pct(x, digits) { return x == null ? "–" : (x < 0 ? "\u2212" : "") + (Math.abs(x) * 100).toFixed(digits) + "%"; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function headers() {
    var h = { Accept: "application/json", "Content-Type": "application/json", Prefer: "respond-async" };
    var k = "";
    try { k = window.localStorage.getItem("flowopt.apiKey") || ""; } catch (e) { /* private mode */ }
    if (k) h["X-API-Key"] = k;
    return h;
  }

  async function call(method, url, body) {
    var r = await fetch(url, { method: method, headers: headers(), body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
    var text = await r.text(), doc = null;
    try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = { detail: text.slice(0, 300) }; }
    return { status: r.status, doc: doc, location: r.headers.get("Location") };
  }

  function target() {
    var slider = $("target");
    return slider ? Math.round(Number(slider.value) * 10000) / 10000 : 0.7;
  }

  function problemText(doc, status) {
    var zh = lang() === "zh", d = doc || {};
    if (status === 401) return t().keyNeeded;
    var text = (zh ? d.detail_zh : d.detail) || d.detail || ("HTTP " + status);
    if (d.code === "input_invalid" && d.detail) text = d.detail;  // the English detail names the field
    var first = (d.problems || [])[0];
    return t().failed + text + (first ? " (" + first.table + (first.row ? " " + first.row : "") + (first.column ? " · " + first.column : "") + ": " + first.message + ")" : "");
  }

  async function run() {
    if (state.running) return;
    state.running = true;
    state.error = null;
    state.status = t().queued;
    render();
    try {
      var r = await call("POST", "/v1/risks", { scenario_id: SCENARIO, samples: SAMPLES, seed: 0, target: target() });
      var doc = null;
      if (r.status === 200 || r.status === 201) doc = r.doc;
      else if (r.status !== 202) throw { doc: r.doc, status: r.status };
      else {
        var jobUrl = r.location || (r.doc && r.doc.url), deadline = Date.now() + POLL_LIMIT_MS;
        for (;;) {
          await sleep(POLL_MS);
          var j = await call("GET", jobUrl);
          if (j.status !== 200) throw { doc: j.doc, status: j.status };
          if (j.doc.status === "succeeded") { doc = j.doc.result; break; }
          if (j.doc.status === "failed") throw { doc: j.doc.error, status: (j.doc.error && j.doc.error.status) || 500 };
          if (Date.now() > deadline) throw { doc: { detail: "The risk run did not finish in time; see " + jobUrl }, status: 504 };
          state.status = j.doc.status === "running" ? t().running(j.doc.progress) : t().queued;
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

  function renderTornado(box, r) {
    box.textContent = "";
    var zh = lang() === "zh";
    var bars = (r.tornado || []).filter(function (b) { return b.low_rate != null && b.high_rate != null; }).slice(0, TOP_BARS);
    if (!bars.length) return;
    box.appendChild(el("p", "risk-tornado-title", t().tornado));
    var rates = [r.target];
    bars.forEach(function (b) { rates.push(b.low_rate, b.high_rate); });
    if (r.deterministic_max_rate != null) rates.push(r.deterministic_max_rate);
    var lo = Math.min.apply(null, rates), hi = Math.max.apply(null, rates), span = (hi - lo) || 0.01;
    lo -= 0.05 * span; hi += 0.05 * span;
    function x(v) { return (100 * (v - lo) / (hi - lo)).toFixed(2) + "%"; }
    var base = r.deterministic_max_rate != null ? r.deterministic_max_rate : bars[0].low_rate;
    bars.forEach(function (b) {
      var row = el("div", "risk-bar");
      row.dataset.driver = b.driver;
      row.appendChild(el("span", "risk-bar-label", zh ? b.label_zh : b.label_en));
      var track = el("span", "risk-bar-track");
      [["low", b.low_rate, b.low_value], ["high", b.high_rate, b.high_value]].forEach(function (side) {
        var seg = el("span", "risk-seg " + side[0]);
        var a = Math.min(base, side[1]), z = Math.max(base, side[1]);
        seg.style.left = x(a);
        seg.style.width = Math.max(0.4, 100 * (z - a) / (hi - lo)).toFixed(2) + "%";
        seg.title = side[2] + ": " + pct(side[1], 2);
        track.appendChild(seg);
      });
      var mark = el("span", "risk-target");
      mark.style.left = x(r.target);
      track.appendChild(mark);
      row.appendChild(track);
      row.appendChild(el("span", "risk-bar-values", pct(b.low_rate, 1) + " … " + pct(b.high_rate, 1)));
      box.appendChild(row);
    });
  }

  function render() {
    var tx = t();
    Array.prototype.forEach.call(document.querySelectorAll("[data-risk-i18n]"), function (e) {
      var v = tx[e.getAttribute("data-risk-i18n")];
      if (typeof v === "string") e.textContent = v;
    });
    var button = $("risk-run");
    button.textContent = tx.run(target());
    button.disabled = state.running;
    var status = $("risk-status");
    status.textContent = state.error || state.status || "";
    status.classList.toggle("risk-error", !!state.error);
    var r = state.result, box = $("risk-result");
    box.hidden = !r;
    if (!r) return;
    box.dataset.probability = String(r.probability.estimate);
    $("risk-label").textContent = tx.probability(r.target);
    $("risk-p").textContent = pct(r.probability.estimate, 1);
    $("risk-interval").textContent = tx.interval(r);
    $("risk-spread").textContent = r.max_rate && r.max_rate.n ? tx.spread(r.max_rate) : "";
    renderTornado($("risk-tornado"), r);
  }

  function init() {
    if (!$("risk-run")) return;
    $("risk-run").addEventListener("click", run);
    var slider = $("target");
    if (slider) slider.addEventListener("input", function () { $("risk-run").textContent = t().run(target()); });
    // viewer.js sets <html lang> when the language changes
    new MutationObserver(render).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
    render();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
