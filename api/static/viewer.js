/* flowopt plan viewer: plain JavaScript, no libraries, no build step, no external addresses.
 *
 * On load it reads the bundled park's plan (GET /viewer/plan, a read: no key needed unless the
 * server keys reads too; following a 202 job if the solve takes a moment), then shows KPI tiles, the Sankey (GET /v1/plans/{id}/sankey.svg),
 * the bottleneck cards, and the plan's product markets, tax incentives and firms' duties. The target slider and the capacity slider send what-ifs
 * (POST /v1/whatifs, debounced; the newest request wins). A key pasted into the page is kept in
 * localStorage and sent as X-API-Key.
 */
(function () {
  "use strict";

  var SCENARIO = "panzhihua_east_2025";
  var KEY_STORE = "flowopt.apiKey";
  var LANG_STORE = "flowopt.lang";
  var DEBOUNCE_MS = 350;
  var POLL_MS = 400;
  var POLL_LIMIT_MS = 180000;
  var TOP_CARDS = 6;
  // each official rate's formula in symbols (the plan's rates carry it in words, shown on hover)
  var RATE_SYMBOLS = { utilization: "U/(G+U_prior)", utilization_plus_disposal: "(U+D)/(G+U_prior+D_prior)", disposal_only: "D/G" };

  var TEXT = {
    en: {
      pageTitle: "flowopt plan viewer · Panzhihua East",
      title: "Panzhihua East park: least-cost solid-waste plan",
      subtitle: "Where every tonne of industrial solid waste goes, what it costs, and what limits the plan.",
      apiKey: "API key",
      apiKeyLabel: "Key for this server (sent as X-API-Key)",
      save: "Save",
      clear: "Clear",
      keySaved: "saved",
      keyHint: "Needed only when the server has keys configured. Kept in this browser (localStorage) and sent only to this server.",
      whatIf: "What if",
      targetLabel: "Utilization target",
      capacityLabel: function (id, name) { return "Capacity of " + id + (name ? " · " + name : ""); },
      targetHint: function (max) { return max == null ? "" : "The network reaches at most " + pct(max, 2) + "."; },
      capacityHint: function (base) { return "In the data: " + tonnes(base, "en") + ". 0 switches the project off."; },
      reset: "Back to the base plan",
      loading: "Loading the plan…",
      solving: "Solving the what-if…",
      waiting: "Waiting for a solver…",
      ready: "Base plan",
      readyWhatIf: function (s) {
        if (!s) return "What-if";
        if (s.reused) return "What-if (the same plan was stored: reused)";
        return "What-if solved (" + (s.warm ? "warm re-solve, " : "cold solve, ") + Number(s.seconds || 0).toFixed(2) + " s)";
      },
      kpiRate: "Utilization rate",
      rateModes: { utilization: "Utilization rate", utilization_plus_disposal: "Utilization plus disposal rate", disposal_only: "Disposal rate" },
      ratesTitle: "Official rates, side by side: ",
      rateTarget: "the target's rate",
      kpiCost: "Total cost",
      kpiMax: "Highest reachable rate",
      kpiMarginal: "Cost of one more point of target",
      rateNote: function (target, met) { return "target " + pct(target, 1) + (met ? " · met" : " · not met"); },
      costGain: "net gain: revenue exceeds costs",
      costLoss: "net cost",
      maxNote: "cost ignored",
      marginalNote: function (a, b) { return "per year, per point; holds for targets " + pct(a, 2) + "–" + pct(b, 2); },
      marginalNone: "the target does not bind",
      vsBase: function (d) { return d + " vs base"; },
      points: "pts",
      flows: "Material flows",
      flowsHint: "Band width = tonnes per year; colour = waste category. Hover a band for its tonnes.",
      bottlenecks: "Bottlenecks",
      bottlenecksHint: "Binding limits, ranked by the money at stake: what relaxing each to the edge of its valid range would save.",
      atStake: "at stake per year",
      unbounded: "no upper end",
      showAll: function (n) { return "Show all " + n; },
      showTop: function (n) { return "Show the top " + n; },
      noCards: "Nothing binds: no limit has a price in this plan.",
      sankeyLoading: "Drawing the Sankey…",
      sankeyFailed: "The Sankey could not be loaded: ",
      staleNote: "The tiles, Sankey and cards still show the last plan that could be solved.",
      keyNeeded: "This server needs an API key for solves. Paste one under “API key” (top right) and press Save.",
      network: "The server did not answer: ",
      row: function (n) { return " row " + n; },
      footer: "flowopt · least-cost LP (Pyomo + HiGHS) · the page talks only to this server",
      kinds: {
        target: "target", project_capacity: "project capacity", project_min_intake: "minimum intake",
        sink_capacity: "site capacity", route_capacity: "route capacity", stock_reclaim_limit: "reclaim limit",
        quality_max: "quality maximum", quality_min: "quality minimum", feed_share: "feed share",
        sink_airspace: "site airspace", co2_cap: "CO2 cap", market_demand: "market demand", firm_target: "firm's duty"
      },
      airspaceTitle: "Airspace left: ",
      airspaceYears: function (y) { return y == null ? "takes nothing" : y.toFixed(1) + " years"; },
      // markets, incentives and firms' duties (issue 15): renderMarkets
      marketsTitle: "Markets, incentives and duties",
      marketsHint: "What the plan sells against each product market's demand, the tax incentives it counts, and the firms' own duties (主体责任).",
      marketsCaption: "Product markets (tonnes of product per year)",
      marketCols: ["Product", "Sold, t/yr", "Demand limit, t/yr", "Share of the limit", "Price tier reached", "Demand"],
      unlimited: "unlimited",
      tierReached: function (k, n, price) { return "tier " + k + " of " + n + " · " + price; },
      nothingSold: "nothing sold",
      noTiers: "no price tiers (each project's own revenue)",
      marketFull: "full",
      marketRoom: "room left",
      marketWorth: function (price) { return "shadow price " + price + " (what one more t/yr of demand would save a year)"; },
      marketRange: function (a, b) { return b == null ? "holds for demand from " + a + " t/yr up" : "holds for demand " + a + "–" + b + " t/yr"; },
      incentivesOff: "Tax incentives: not counted in this plan (policy.apply_incentives is false).",
      incentives: function (total, vat, tax) { return "Tax incentives: " + total + " = VAT refund " + vat + " + income-tax reduction " + tax + "."; },
      incentivesCost: function (cost, without) { return "Plan cost " + cost + "; without the incentives " + without + "."; },
      dutiesCaption: "Firms' duties (主体责任): each firm's own rate by its ledger",
      dutyCols: ["Firm", "Minimum rate", "Rate reached", "Delivered, t/yr", "Generated + prior stock, t/yr", "Duty"],
      dutyBinds: "binds",
      dutyMet: "met, does not bind",
      dutyCost: function (price) { return "one more point costs " + price; },
      dutyRange: function (a, b) { return "holds for duties " + a + "–" + b; }
    },
    zh: {
      pageTitle: "flowopt 方案查看器 · 攀枝花东区",
      title: "攀枝花东区高新技术产业园区：工业固废最低成本方案",
      subtitle: "每吨工业固废的去向、成本，以及制约方案的瓶颈。",
      apiKey: "API 密钥",
      apiKeyLabel: "本服务器的密钥（以 X-API-Key 发送）",
      save: "保存",
      clear: "清除",
      keySaved: "已保存",
      keyHint: "仅当服务器配置了密钥时需要。密钥保存在本浏览器（localStorage）中，只发送给本服务器。",
      whatIf: "情景分析",
      targetLabel: "综合利用率目标",
      capacityLabel: function (id, name) { return id + " 产能" + (name ? " · " + name : ""); },
      targetHint: function (max) { return max == null ? "" : "现有网络最高可达 " + pct(max, 2) + "。"; },
      capacityHint: function (base) { return "数据中为 " + tonnes(base, "zh") + "；设为 0 即停用该项目。"; },
      reset: "回到基准方案",
      loading: "正在加载方案…",
      solving: "正在求解情景…",
      waiting: "等待求解进程…",
      ready: "基准方案",
      readyWhatIf: function (s) {
        if (!s) return "情景方案";
        if (s.reused) return "情景方案（已有相同方案，直接复用）";
        return "情景已求解（" + (s.warm ? "热启动重解，" : "冷启动求解，") + Number(s.seconds || 0).toFixed(2) + " 秒）";
      },
      kpiRate: "综合利用率",
      rateModes: { utilization: "综合利用率", utilization_plus_disposal: "综合利用处置率", disposal_only: "处置率" },
      ratesTitle: "三种官方口径并列：",
      rateTarget: "目标口径",
      kpiCost: "年总成本",
      kpiMax: "最高可达利用率",
      kpiMarginal: "目标每提高 1 个百分点的成本",
      rateNote: function (target, met) { return "目标 " + pct(target, 1) + (met ? " · 已达成" : " · 未达成"); },
      costGain: "净收益：产品收入高于各项成本",
      costLoss: "净成本",
      maxNote: "不计成本",
      marginalNote: function (a, b) { return "每年；目标在 " + pct(a, 2) + "–" + pct(b, 2) + " 之间适用"; },
      marginalNone: "目标不起约束作用",
      vsBase: function (d) { return "较基准 " + d; },
      points: "个百分点",
      flows: "物料流向",
      flowsHint: "带宽 = 年吨数；颜色 = 固废类别。悬停查看吨数。",
      bottlenecks: "瓶颈",
      bottlenecksHint: "起约束作用的限制条件，按涉及金额排序：将其放宽到影子价格有效区间的边界可节约的金额。",
      atStake: "每年涉及金额",
      unbounded: "无上限",
      showAll: function (n) { return "显示全部 " + n + " 项"; },
      showTop: function (n) { return "只显示前 " + n + " 项"; },
      noCards: "没有起约束作用的限制条件。",
      sankeyLoading: "正在绘制桑基图…",
      sankeyFailed: "桑基图加载失败：",
      staleNote: "指标卡、桑基图和瓶颈卡片仍显示上一个可求解的方案。",
      keyNeeded: "本服务器求解需要 API 密钥。请在右上角“API 密钥”中粘贴密钥并点击保存。",
      network: "服务器无响应：",
      row: function (n) { return " 第 " + n + " 行"; },
      footer: "flowopt · 最低成本线性规划（Pyomo + HiGHS）· 本页面只与本服务器通信",
      kinds: {
        target: "目标", project_capacity: "项目产能", project_min_intake: "最低进料",
        sink_capacity: "设施容量", route_capacity: "路线运力", stock_reclaim_limit: "回采上限",
        quality_max: "品质上限", quality_min: "品质下限", feed_share: "进料占比",
        sink_airspace: "剩余库容", co2_cap: "排放上限", market_demand: "市场需求", firm_target: "企业主体责任"
      },
      airspaceTitle: "剩余库容：",
      airspaceYears: function (y) { return y == null ? "当年无进场" : "尚可使用 " + y.toFixed(1) + " 年"; },
      marketsTitle: "产品市场、优惠政策与企业责任",
      marketsHint: "方案在各产品市场需求内的销量、计入的税收优惠，以及各企业的主体责任目标。",
      marketsCaption: "产品市场（吨/年产品）",
      marketCols: ["产品", "销量（吨/年）", "需求上限（吨/年）", "占需求上限", "所达价格档", "需求"],
      unlimited: "不限",
      tierReached: function (k, n, price) { return "第 " + k + "/" + n + " 档，" + price; },
      nothingSold: "无销售",
      noTiers: "无价格档（按各项目自身收入）",
      marketFull: "已饱和",
      marketRoom: "尚有余量",
      marketWorth: function (price) { return "需求每增加 1 吨/年，年成本节约 " + price; },
      marketRange: function (a, b) { return b == null ? "需求不低于 " + a + " 吨/年时有效" : "需求在 " + a + "–" + b + " 吨/年之间有效"; },
      incentivesOff: "税收优惠：本方案未计入（policy.apply_incentives 为 false）。",
      incentives: function (total, vat, tax) { return "税收优惠：" + total + " = 增值税即征即退 " + vat + " + 所得税减计收入 " + tax + "。"; },
      incentivesCost: function (cost, without) { return "方案年总成本 " + cost + "；若无优惠为 " + without + "。"; },
      dutiesCaption: "企业主体责任目标（按企业台账口径）",
      dutyCols: ["企业", "最低利用率", "达到（台账口径）", "交付综合利用（吨/年）", "产生量 + 往年贮存（吨/年）", "是否约束"],
      dutyBinds: "起约束作用",
      dutyMet: "已达到，不起约束作用",
      dutyCost: function (price) { return "目标每提高 1 个百分点，园区年成本增加 " + price; },
      dutyRange: function (a, b) { return "在 " + a + "–" + b + " 之间有效"; }
    }
  };

  var state = {
    lang: "en",
    base: null,          // {plan, planId}
    shown: null,         // {plan, planId, comparison, solve}
    baseCapacity: null,
    project: "R06",
    seq: 0,
    timer: null,
    abort: null,
    showAllCards: false,
    svg: {},             // planId + lang -> SVG text
    problem: null
  };

  // ------------------------------------------------------------------ helpers

  function $(id) { return document.getElementById(id); }
  function t() { return TEXT[state.lang]; }
  var MINUS = "\u2212";

  function signed(text, value) { return value < 0 ? MINUS + text : text; }
  function pct(x, digits) { return signed((Math.abs(x) * 100).toFixed(digits) + "%", x); }
  function group(n, digits) {
    return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  /** Money in CNY: millions in English, 万元/亿元 in Chinese. */
  function money(v, lang, perYear) {
    var a = Math.abs(v), s;
    if (lang === "zh") {
      if (a >= 1e8) s = group(a / 1e8, 2) + " 亿元";
      else if (a >= 1e4) s = group(a / 1e4, a < 1e5 ? 2 : a < 1e7 ? 1 : 0) + " 万元";  // as flowopt.fmt.money
      else s = group(a, 0) + " 元";
      return signed(s, v) + (perYear ? "/年" : "");
    }
    if (a >= 1e9) s = group(a / 1e9, 2) + " bn CNY";
    else if (a >= 1e6) s = group(a / 1e6, a >= 1e8 ? 1 : 2) + " M CNY";
    else s = group(a, 0) + " CNY";
    return signed(s, v) + (perYear ? "/yr" : "");
  }

  /** Tonnes per year: Mt in English, 万吨 in Chinese. */
  function tonnes(v, lang) {
    if (lang === "zh") return group(v / 1e4, 0) + " 万吨/年";
    return group(v / 1e6, 1) + " Mt/yr";
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function apiKey() {
    try { return window.localStorage.getItem(KEY_STORE) || ""; } catch (e) { return ""; }
  }

  function headers(json) {
    var h = { Accept: "application/json" };
    if (json) h["Content-Type"] = "application/json";
    var k = apiKey();
    if (k) h["X-API-Key"] = k;
    return h;
  }

  function ApiProblem(doc, status) {
    this.name = "ApiProblem";
    this.doc = doc || {};
    this.status = status;
    this.message = (doc && doc.detail) || ("HTTP " + status);
  }
  ApiProblem.prototype = Object.create(Error.prototype);

  function sleep(ms, signal) {
    return new Promise(function (resolve, reject) {
      var id = setTimeout(resolve, ms);
      if (signal) signal.addEventListener("abort", function () { clearTimeout(id); reject(new DOMException("aborted", "AbortError")); });
    });
  }

  async function call(method, url, body, signal) {
    var r = await fetch(url, { method: method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), signal: signal, cache: "no-store" });
    var text = await r.text();
    var doc = null;
    try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = { detail: text.slice(0, 300) }; }
    return { status: r.status, doc: doc, location: r.headers.get("Location"), retryAfter: r.headers.get("Retry-After") };
  }

  /** POST (GET without a body); a full queue (429) or a server not ready (503) is retried after Retry-After, 3 times at most. */
  async function post(url, body, signal) {
    for (var attempt = 0; ; attempt++) {
      var r = await call(body === undefined ? "GET" : "POST", url, body, signal);
      if ((r.status !== 429 && r.status !== 503) || attempt >= 3) return r;
      setStatus(t().waiting);
      await sleep(1000 * Math.min(10, Math.max(1, Number(r.retryAfter) || 2)), signal);
    }
  }

  /** POST and follow a 202 job to its end; return {doc, planId} of the finished work. */
  async function solve(url, body, signal) {
    var r = await post(url, body, signal);
    if (r.status === 200 || r.status === 201) {
      var loc = r.location && r.location.match(/\/v1\/plans\/([0-9a-f]{32})/);
      return { doc: r.doc, planId: loc ? loc[1] : null };
    }
    if (r.status !== 202) throw new ApiProblem(r.doc, r.status);
    var jobUrl = r.location || (r.doc && r.doc.url);
    var deadline = Date.now() + POLL_LIMIT_MS;
    setStatus(t().waiting);
    for (;;) {
      await sleep(POLL_MS, signal);
      var j = await call("GET", jobUrl, undefined, signal);
      if (j.status !== 200) throw new ApiProblem(j.doc, j.status);
      if (j.doc.status === "succeeded") return { doc: j.doc.result, planId: j.doc.plan_id || null };
      if (j.doc.status === "failed") throw new ApiProblem(j.doc.error, (j.doc.error && j.doc.error.status) || 500);
      if (Date.now() > deadline) throw new ApiProblem({ detail: "The solve did not finish in time; see " + jobUrl }, 504);
      setStatus(j.doc.status === "running" ? t().solving : t().waiting);
    }
  }

  // ------------------------------------------------------------------ state display

  function setState(name) { $("app").dataset.state = name; }

  function setStatus(text) { $("status-text").textContent = text; }

  function setError(err) {
    state.problem = err;
    renderError();
    if (err instanceof ApiProblem && err.status === 401) $("api-key").focus();
  }

  function renderError() {
    var box = $("error"), err = state.problem, tx = t(), zh = state.lang === "zh";
    $("kpis").classList.toggle("stale", !!err && !!state.shown);
    if (!err) { box.hidden = true; return; }
    var title = "", detail = "", problems = [], note = "";
    if (err instanceof ApiProblem) {
      var d = err.doc;
      title = (zh ? d.title_zh : d.title) || d.title || ("HTTP " + err.status);
      detail = (zh ? d.detail_zh : d.detail) || d.detail || "";
      if (d.diagnosis) detail = (zh ? d.diagnosis.statement_zh : d.diagnosis.statement) || detail;
      if (d.code === "input_invalid" && zh && d.detail) detail = d.detail;  // the English detail names the field
      (d.problems || []).slice(0, 5).forEach(function (p) {
        problems.push((p.table ? p.table + (p.row ? tx.row(p.row) : "") + (p.column ? " · " + p.column : "") + (zh ? "：" : ": ") : "") + p.message + (p.hint ? (zh ? "（" + p.hint + "）" : " (" + p.hint + ")") : ""));
      });
      if (err.status === 401) note = tx.keyNeeded;
      else if (state.shown) note = tx.staleNote;
    } else {
      title = tx.network.replace(/[:：]\s*$/, "");
      detail = tx.network + (err && err.message ? err.message : String(err));
      if (state.shown) note = tx.staleNote;
    }
    $("error-title").textContent = title;
    $("error-detail").textContent = detail;
    var ul = $("error-problems");
    ul.textContent = "";
    problems.forEach(function (p) { ul.appendChild(el("li", null, p)); });
    $("error-note").textContent = note;
    box.hidden = false;
    if (err instanceof ApiProblem && err.status === 401) $("key-box").open = true;
  }

  function renderTexts() {
    var tx = t();
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.title = tx.pageTitle;
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (e) {
      var v = tx[e.getAttribute("data-i18n")];
      if (typeof v === "string") e.textContent = v;
    });
    ["en", "zh"].forEach(function (l) { $("lang-" + l).setAttribute("aria-pressed", String(l === state.lang)); });
    $("key-state").textContent = apiKey() ? "· " + tx.keySaved : "";
    renderSliderTexts();
  }

  function renderSliderTexts() {
    var tx = t(), lang = state.lang;
    var target = Number($("target").value), cap = Number($("capacity").value);
    $("target-value").textContent = pct(target, 1);
    $("capacity-value").textContent = tonnes(cap, lang);
    var labels = state.base ? state.base.plan.labels || {} : {};
    var name = labels[state.project] ? (lang === "zh" ? labels[state.project].name_zh : labels[state.project].name_en) : "";
    $("capacity-label").textContent = tx.capacityLabel(state.project, name);
    if (state.base) {
      // the highest reachable rate of the plan on screen (more capacity can raise it)
      $("target-hint").textContent = tx.targetHint((state.shown || state.base).plan.max_utilization_rate);
      $("capacity-hint").textContent = state.baseCapacity == null ? "" : tx.capacityHint(state.baseCapacity);
    }
  }

  function tile(id, value, note, raw) {
    var node = $(id);
    node.querySelector(".tile-value").textContent = value;
    var n = node.querySelector(".tile-note");
    n.textContent = "";
    (Array.isArray(note) ? note : [note]).forEach(function (part) {
      if (part == null || part === "") return;
      if (n.childNodes.length) n.appendChild(document.createTextNode(" · "));
      n.appendChild(typeof part === "string" ? document.createTextNode(part) : part);
    });
    node.dataset.value = raw == null ? "" : String(raw);
    return node;
  }

  function delta(text, up) {
    var s = el("span", up ? "up" : "down", text);
    return s;
  }

  function renderKpis() {
    if (!state.shown) return;
    var p = state.shown.plan, b = state.base && state.base.plan, tx = t(), lang = state.lang;
    var isWhatIf = b && state.shown.planId !== state.base.planId;
    var met = p.kpis.target_rate_value >= p.target - 1e-7;
    var rateNote = [tx.rateNote(p.target, met)];
    // the tile shows the rate the target applies to (policy.rate_mode; the official utilization rate by default)
    var shownRate = p.kpis.target_rate_value, baseRate = b ? b.kpis.target_rate_value : shownRate;
    $("kpi-rate").querySelector(".tile-label").textContent = tx.rateModes[p.rate_mode] || tx.kpiRate;
    if (isWhatIf && Math.abs(shownRate - baseRate) > 1e-9) {
      var dp = (shownRate - baseRate) * 100;
      rateNote.push(delta(tx.vsBase((dp > 0 ? "+" : MINUS) + Math.abs(dp).toFixed(2) + " " + tx.points), false));
    }
    var rateTile = tile("kpi-rate", pct(shownRate, 2), rateNote, shownRate);
    rateTile.classList.toggle("met", met);
    rateTile.classList.toggle("unmet", !met);
    rateTile.dataset.target = String(p.target);

    var costNote = [p.objective_cny < 0 ? tx.costGain : tx.costLoss];
    if (isWhatIf && Math.abs(p.objective_cny - b.objective_cny) > 0.5) {
      var dc = p.objective_cny - b.objective_cny;
      costNote = [delta(tx.vsBase((dc > 0 ? "+" : "") + money(dc, lang, false)), dc > 0)];
    }
    var costTile = tile("kpi-cost", money(p.objective_cny, lang, true), costNote, p.objective_cny);
    costTile.classList.toggle("gain", p.objective_cny < 0);

    var mx = p.max_utilization_rate;
    tile("kpi-max", mx == null ? "–" : pct(mx, 2), tx.maxNote, mx);

    var m = p.target_marginal_cost;
    if (m) tile("kpi-marginal", money(m.cny_per_point, lang, false), tx.marginalNote(m.valid_from_target, m.valid_to_target), m.cny_per_point);
    else tile("kpi-marginal", "–", tx.marginalNone, null);
  }

  /** The three official rates side by side (plan.rates), each with its formula; the target's rate marked. */
  function renderRates() {
    var box = $("rates"), tx = t(), zh = state.lang === "zh";
    box.textContent = "";
    var rates = state.shown && state.shown.plan.rates;
    if (!rates || !rates.length) return;
    box.appendChild(document.createTextNode(tx.ratesTitle));
    rates.forEach(function (r, i) {
      if (i) box.appendChild(document.createTextNode(zh ? "；" : " · "));
      var symbols = RATE_SYMBOLS[r.mode] ? " = " + RATE_SYMBOLS[r.mode] : "";
      var span = el("span", "rate" + (r.target_applies ? " target" : ""), (tx.rateModes[r.mode] || r.mode) + " " + (r.value == null ? "–" : pct(r.value, 2)) + symbols + (r.target_applies ? (zh ? "（" + tx.rateTarget + "）" : " (" + tx.rateTarget + ")") : ""));
      span.dataset.mode = r.mode;
      span.title = zh ? r.formula_zh : r.formula;
      box.appendChild(span);
    });
  }

  /** The plan's CO2 headline (plan.co2_t) and the sites' airspace with the years left (plan.airspace). */
  function renderFootprint() {
    var box = $("footprint"), tx = t(), zh = state.lang === "zh";
    if (!box) return;
    box.textContent = "";
    var p = state.shown && state.shown.plan;
    if (!p) return;
    var lines = [];
    if (p.co2_t && (p.co2_t.gross_tco2 || p.co2_t.avoided_tco2 || p.co2_t.cap_t != null)) lines.push(zh ? p.co2_t.headline_zh : p.co2_t.headline);
    if (p.airspace && p.airspace.length) {
      lines.push(tx.airspaceTitle + p.airspace.map(function (a) { return a.sink + " " + (zh ? group(a.remaining_t / 1e4, 0) + " 万吨" : group(a.remaining_t / 1e6, 1) + " Mt") + " (" + tx.airspaceYears(a.years_left) + ")"; }).join(zh ? "；" : " · "));
    }
    lines.forEach(function (line, i) {
      if (i) box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(line));
    });
  }

  // ------------------------------------------------------------------ markets, incentives and duties (issue 15)

  /** CNY per tonne with 2 decimals (as the text report): "40.56 CNY/t", "40.56 元/吨". */
  function perTonne(v, lang) {
    return signed(group(Math.abs(v), 2), v) + (lang === "zh" ? " 元/吨" : " CNY/t");
  }

  /** An accessible table: a caption, column headers (scope=col), an empty body to fill. */
  function dataTable(cls, caption, cols, numeric) {
    var table = el("table", "mkt-table " + cls), head = el("tr"), thead = el("thead"), body = el("tbody");
    table.appendChild(el("caption", null, caption));
    cols.forEach(function (c, i) {
      var th = el("th", numeric.indexOf(i) >= 0 ? "num" : null, c);
      th.scope = "col";
      head.appendChild(th);
    });
    thead.appendChild(head);
    table.appendChild(thead);
    table.appendChild(body);
    return { table: table, body: body };
  }

  /** The row header of a market or firm: its name in the page's language, then its id. */
  function rowHead(nameZh, nameEn, id) {
    var zh = state.lang === "zh", th = el("th");
    th.scope = "row";
    th.appendChild(el("span", null, (zh ? nameZh || nameEn : nameEn || nameZh) || id));
    th.appendChild(el("span", "id", " " + id));
    return th;
  }

  /** "● full" / "● binds": a marker that does not rely on colour alone. */
  function bindsMark(text) {
    var s = el("span", "binds-mark");
    s.appendChild(el("span", null, "\u25CF ")).setAttribute("aria-hidden", "true");
    s.appendChild(document.createTextNode(text));
    return s;
  }

  /**
   * The plan's product markets (plan.markets), tax incentives (plan.incentives_cny) and firms'
   * duties (plan.firm_targets), rows in the plan's order. A part the plan does not have is left
   * out (no empty table or heading); the panel is hidden when the plan has none of the three.
   */
  function renderMarkets() {
    var panel = $("markets"), tx = t(), lang = state.lang, zh = lang === "zh";
    if (!panel) return;
    var mbox = $("markets-table"), ibox = $("incentives"), dbox = $("duties");
    mbox.textContent = "";
    ibox.textContent = "";
    dbox.textContent = "";
    var p = state.shown && state.shown.plan;
    var markets = (p && p.markets) || [], inc = p && p.incentives_cny, duties = (p && p.firm_targets) || [];
    panel.hidden = !(markets.length || inc || duties.length);
    ibox.hidden = !inc;
    if (markets.length) {
      var mt = dataTable("mkt-markets", tx.marketsCaption, tx.marketCols, [1, 2, 3]);
      markets.forEach(function (m) {
        var tr = el("tr", m.binds ? "binds" : null);
        tr.dataset.market = m.market;
        tr.dataset.soldT = String(m.sold_t);
        tr.dataset.binds = String(!!m.binds);
        tr.appendChild(rowHead(m.name_zh, m.name_en, m.market));
        tr.appendChild(el("td", "num mkt-sold", group(m.sold_t, 0)));
        tr.appendChild(el("td", "num mkt-limit", m.limit_t == null ? tx.unlimited : group(m.limit_t, 0)));
        tr.appendChild(el("td", "num mkt-share", m.limit_t ? pct(m.sold_t / m.limit_t, 1) : "–"));
        var tiers = m.tiers || [];
        tr.appendChild(el("td", "mkt-tier", m.tier_reached > 0 && m.price_reached_cny_per_t != null ? tx.tierReached(m.tier_reached, tiers.length, perTonne(m.price_reached_cny_per_t, lang)) : (tiers.length ? tx.nothingSold : tx.noTiers)));
        var demand = el("td", "mkt-demand");
        if (m.binds) {
          demand.appendChild(bindsMark(tx.marketFull));
          var parts = [];
          if (m.shadow_price_cny_per_t != null) parts.push(tx.marketWorth(zh ? signed(group(Math.abs(m.shadow_price_cny_per_t), 2), m.shadow_price_cny_per_t) + " 元" : perTonne(m.shadow_price_cny_per_t, lang)));
          if (m.valid_from_t != null) parts.push(tx.marketRange(group(m.valid_from_t, 0), m.valid_to_t == null ? null : group(m.valid_to_t, 0)));
          if (parts.length) demand.appendChild(el("span", "mkt-price", (zh ? "：" : ": ") + parts.join(zh ? "；" : "; ")));
        } else {
          demand.textContent = m.limit_t == null ? "–" : tx.marketRoom;
        }
        tr.appendChild(demand);
        mt.body.appendChild(tr);
      });
      mbox.appendChild(mt.table);
    }
    if (inc) {
      ibox.dataset.totalCny = String(inc.total_cny);
      if (!inc.applied) ibox.appendChild(document.createTextNode(tx.incentivesOff));
      else ibox.appendChild(el("strong", "mkt-inc-total", tx.incentives(money(inc.total_cny, lang, true), money(inc.vat_refund_cny, lang, false), money(inc.income_tax_cny, lang, false))));
      if (inc.objective_without_cny != null) ibox.appendChild(el("span", "mkt-inc-cost", " " + tx.incentivesCost(money(p.objective_cny, lang, true), money(inc.objective_without_cny, lang, true))));
      // the projects behind the total, on hover (the text report lists them in full)
      ibox.title = (inc.by_project || []).map(function (r) { return r.project + " " + ((zh ? r.name_zh : r.name_en) || "") + ": " + money(r.total_cny, lang, true); }).join("\n");
    }
    if (duties.length) {
      var dt = dataTable("mkt-duties", tx.dutiesCaption, tx.dutyCols, [1, 2, 3, 4]);
      duties.forEach(function (d) {
        var tr = el("tr", d.binds ? "binds" : null);
        tr.dataset.firm = d.firm;
        tr.dataset.binds = String(!!d.binds);
        tr.dataset.rate = d.rate == null ? "" : String(d.rate);
        tr.appendChild(rowHead(d.name_zh, d.name_en, d.firm));
        tr.appendChild(el("td", "num duty-min", pct(d.target_rate, 1)));
        var reached = el("td", "num duty-rate", d.rate == null ? "–" : pct(d.rate, 2));
        reached.title = (zh ? d.formula_zh : d.formula) || "";
        tr.appendChild(reached);
        tr.appendChild(el("td", "num duty-delivered", group(d.delivered_t, 0)));
        tr.appendChild(el("td", "num duty-base", group(d.generated_t + (d.prior_t || 0), 0)));
        var cell = el("td", "duty-state");
        if (d.binds) {
          cell.appendChild(bindsMark(tx.dutyBinds));
          var bits = [];
          if (d.cny_per_point != null) bits.push(tx.dutyCost(money(d.cny_per_point, lang, true)));
          if (d.valid_from != null && d.valid_to != null) bits.push(tx.dutyRange(pct(d.valid_from, 2), pct(d.valid_to, 2)));
          if (bits.length) cell.appendChild(el("span", "mkt-price", (zh ? "：" : ": ") + bits.join(zh ? "；" : "; ")));
        } else {
          cell.textContent = tx.dutyMet;
        }
        tr.appendChild(cell);
        dt.body.appendChild(tr);
      });
      dbox.appendChild(dt.table);
    }
  }

  function renderComparison() {
    var c = state.shown && state.shown.comparison, box = $("comparison");
    if (!c || !(c.explanation || c.explanation_zh)) { box.hidden = true; box.textContent = ""; return; }
    box.textContent = (state.lang === "zh" ? c.explanation_zh : c.explanation) || c.explanation;
    box.hidden = false;
  }

  function renderCards() {
    var box = $("cards"), tx = t(), zh = state.lang === "zh";
    box.textContent = "";
    if (!state.shown) return;
    var all = state.shown.plan.bottlenecks || [];
    var list = state.showAllCards ? all : all.slice(0, TOP_CARDS);
    var top = all.reduce(function (m, b) { return Math.max(m, b.cny_at_stake || 0); }, 0);
    if (!all.length) box.appendChild(el("p", "hint", tx.noCards));
    list.forEach(function (b, i) {
      var card = el("article", "card");
      card.dataset.constraint = b.constraint;
      var head = el("div", "card-head");
      head.appendChild(el("span", "rank", "#" + (i + 1)));
      head.appendChild(el("span", "badge" + (b.kind === "target" ? " target" : ""), tx.kinds[b.kind] || b.kind.replace(/_/g, " ")));
      card.appendChild(head);
      var name = b.kind === "target" ? tx.targetLabel : (zh ? b.subject_name_zh : b.subject_name_en) || b.subject;
      var title = el("div", "card-title", name);
      if (b.subject && b.kind !== "target") title.appendChild(el("span", "id", " " + b.subject));
      card.appendChild(title);
      var stake = el("div", "stake", b.cny_at_stake == null ? tx.unbounded : money(b.cny_at_stake, state.lang, false));
      stake.appendChild(el("small", null, " " + tx.atStake));
      card.appendChild(stake);
      var bar = el("div", "bar"), fill = el("span");
      fill.style.width = (top > 0 && b.cny_at_stake != null ? Math.max(2, 100 * b.cny_at_stake / top) : 100).toFixed(1) + "%";
      bar.appendChild(fill);
      card.appendChild(bar);
      card.appendChild(el("p", "card-text", zh ? b.explanation_zh : b.explanation));
      box.appendChild(card);
    });
    var more = $("more-cards");
    more.hidden = all.length <= TOP_CARDS;
    more.textContent = state.showAllCards ? tx.showTop(TOP_CARDS) : tx.showAll(all.length);
  }

  /** Parse the server's SVG and keep only drawing elements (no scripts, handlers or links). */
  function safeSvg(text) {
    var doc = new DOMParser().parseFromString(text, "image/svg+xml");
    var root = doc.documentElement;
    if (!root || root.nodeName.toLowerCase() !== "svg" || doc.getElementsByTagName("parsererror").length) throw new Error("not an SVG picture");
    Array.prototype.forEach.call(root.querySelectorAll("script, foreignObject, iframe, image, use, a, style"), function (n) { n.remove(); });
    [root].concat(Array.prototype.slice.call(root.querySelectorAll("*"))).forEach(function (n) {
      Array.prototype.slice.call(n.attributes).forEach(function (a) {
        var name = a.name.toLowerCase();
        if (name.indexOf("on") === 0 || name === "href" || name === "xlink:href" || name === "style") n.removeAttribute(a.name);
      });
    });
    return document.importNode(root, true);
  }

  async function renderSankey() {
    var box = $("sankey");
    if (!state.shown || !state.shown.planId) return;
    var id = state.shown.planId, lang = state.lang, key = id + ":" + lang;
    box.setAttribute("aria-busy", "true");
    if (!box.firstChild) box.appendChild(el("p", "placeholder", t().sankeyLoading));
    try {
      if (!state.svg[key]) {
        var r = await fetch("/v1/plans/" + id + "/sankey.svg?lang=" + lang, { headers: headers(false), cache: "default" });
        var text = await r.text();
        if (!r.ok) {
          var d = null;
          try { d = JSON.parse(text); } catch (e) { d = { detail: text.slice(0, 200) }; }
          throw new Error((lang === "zh" ? d.detail_zh : d.detail) || ("HTTP " + r.status));
        }
        state.svg[key] = text;
      }
      if (!state.shown || state.shown.planId !== id || state.lang !== lang) return;  // overtaken
      var svg = safeSvg(state.svg[key]);
      box.textContent = "";
      box.appendChild(svg);
      box.dataset.planId = id;
      box.dataset.lang = lang;
    } catch (e) {
      box.textContent = "";
      box.appendChild(el("p", "placeholder", t().sankeyFailed + (e && e.message ? e.message : String(e))));
    } finally {
      box.setAttribute("aria-busy", "false");
    }
  }

  function render() {
    renderTexts();
    renderKpis();
    renderRates();
    renderFootprint();
    renderMarkets();
    renderComparison();
    renderCards();
    renderError();
    renderSankey();
  }

  function show(plan, planId, comparison, solveInfo) {
    state.shown = { plan: plan, planId: planId, comparison: comparison || null, solve: solveInfo || null };
    $("app").dataset.planId = planId || "";
    $("app").dataset.target = String(plan.target);
    render();
  }

  // ------------------------------------------------------------------ actions

  async function loadBase() {
    var seq = ++state.seq;
    setState("loading");
    setStatus(t().loading);
    try {
      // a read: the page shows the plan on a server whose writes (the sliders) need a key
      var r = await solve("/viewer/plan");
      if (seq !== state.seq) return;
      var plan = r.doc;
      if (plan && plan.scenario_id) SCENARIO = plan.scenario_id;
      state.base = { plan: plan, planId: r.planId };
      var load = (plan.outlet_loads || []).filter(function (o) { return o.outlet === state.project; })[0];
      state.baseCapacity = load && load.capacity_t != null ? load.capacity_t : null;
      var tgt = $("target"), cap = $("capacity");
      if (plan.target < Number(tgt.min)) tgt.min = String(plan.target);
      if (plan.target > Number(tgt.max)) tgt.max = String(plan.target);
      tgt.value = String(plan.target);
      if (state.baseCapacity != null) {
        if (state.baseCapacity > Number(cap.max)) cap.max = String(state.baseCapacity);
        cap.value = String(state.baseCapacity);
      }
      tgt.disabled = false;
      cap.disabled = state.baseCapacity == null;
      $("reset").disabled = false;
      setError(null);
      show(plan, r.planId, null, null);
      setStatus(t().ready);
      setState("ready");
    } catch (e) {
      if (seq !== state.seq) return;
      setError(e);
      setStatus("");
      setState("error");
    }
  }

  function changes() {
    var cap = Number($("capacity").value);
    if (state.baseCapacity == null || Math.abs(cap - state.baseCapacity) < 0.5) return [];
    return [{ set: "projects." + state.project + ".capacity_t", value: cap }];
  }

  function currentTarget() { return Math.round(Number($("target").value) * 10000) / 10000; }

  async function runWhatIf() {
    state.timer = null;
    if (!state.base) return;
    var seq = ++state.seq;
    if (state.abort) state.abort.abort();
    var ch = changes(), target = currentTarget();
    if (!ch.length && Math.abs(target - state.base.plan.target) < 1e-9) {
      state.abort = null;
      setError(null);
      show(state.base.plan, state.base.planId, null, null);
      setStatus(t().ready);
      setState("ready");
      return;
    }
    var ctl = new AbortController();
    state.abort = ctl;
    setState("busy");
    setStatus(t().solving);
    try {
      var r = await solve("/v1/whatifs", { scenario_id: SCENARIO, changes: ch, target: target }, ctl.signal);
      if (seq !== state.seq) return;
      var doc = r.doc || {};
      var planId = doc.whatif_plan_id || r.planId;
      var plan = doc.whatif;
      if (!plan && planId) {  // a job result may name the plan without holding it
        var g = await call("GET", "/v1/plans/" + planId, undefined, ctl.signal);
        if (g.status !== 200) throw new ApiProblem(g.doc, g.status);
        plan = g.doc;
      }
      if (!plan || !plan.kpis) throw new ApiProblem({ detail: "The what-if answer holds no plan." }, 500);
      if (seq !== state.seq) return;
      setError(null);
      show(plan, planId, doc.comparison, doc.solve);
      setStatus(t().readyWhatIf(doc.solve));
      setState("ready");
    } catch (e) {
      if (seq !== state.seq || (e && e.name === "AbortError")) return;
      setError(e);
      setStatus("");
      setState("error");
    }
  }

  function schedule() {
    renderSliderTexts();
    if (!state.base) return;
    if (state.timer) clearTimeout(state.timer);
    setState("busy");
    setStatus(t().solving);
    state.timer = setTimeout(runWhatIf, DEBOUNCE_MS);
  }

  function setLang(lang) {
    if (!TEXT[lang] || lang === state.lang) return;
    state.lang = lang;
    try { window.localStorage.setItem(LANG_STORE, lang); } catch (e) { /* private mode */ }
    render();
    var st = $("app").dataset.state;
    if (st === "ready") setStatus(state.shown && state.base && state.shown.planId !== state.base.planId ? t().readyWhatIf(state.shown.solve) : t().ready);
    else if (st === "busy") setStatus(t().solving);
    else if (st === "loading") setStatus(t().loading);
  }

  function initialLang() {
    var q = new URLSearchParams(window.location.search).get("lang");
    if (q && TEXT[q]) return q;
    try { var s = window.localStorage.getItem(LANG_STORE); if (s && TEXT[s]) return s; } catch (e) { /* private mode */ }
    return (navigator.language || "").toLowerCase().indexOf("zh") === 0 ? "zh" : "en";
  }

  function init() {
    state.lang = initialLang();
    state.project = $("capacity").getAttribute("data-project") || "R06";
    $("api-key").value = apiKey();
    $("lang-en").addEventListener("click", function () { setLang("en"); });
    $("lang-zh").addEventListener("click", function () { setLang("zh"); });
    $("target").addEventListener("input", schedule);
    $("capacity").addEventListener("input", schedule);
    $("reset").addEventListener("click", function () {
      if (!state.base) return;
      $("target").value = String(state.base.plan.target);
      if (state.baseCapacity != null) $("capacity").value = String(state.baseCapacity);
      schedule();
    });
    $("more-cards").addEventListener("click", function () { state.showAllCards = !state.showAllCards; renderCards(); });
    $("key-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = $("api-key").value.trim();
      try { if (v) window.localStorage.setItem(KEY_STORE, v); else window.localStorage.removeItem(KEY_STORE); } catch (e) { /* private mode */ }
      state.svg = {};
      renderTexts();
      $("key-box").open = false;
      if (state.base) runWhatIf(); else loadBase();
    });
    $("key-clear").addEventListener("click", function () {
      try { window.localStorage.removeItem(KEY_STORE); } catch (e) { /* private mode */ }
      $("api-key").value = "";
      renderTexts();
    });
    renderTexts();
    loadBase();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
