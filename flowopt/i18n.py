"""Labels in English and Chinese: every heading, header, unit, category, cost term and status.

Stage: renderer helper. The text report, the report, the workbook and the charts take every word
they show from here, in the language asked for, so ``--lang zh`` is Chinese throughout and
``--lang en`` English throughout. Identifiers (``R01``, ``W03``, ``TiO2``, field names) are not
words and stay as they are.

Cost terms and constraint families take their labels from the formulation registry
(:data:`flowopt.formulation.families.TERMS` and ``ROWS``, fields ``label_en``/``label_zh``);
waste categories from :data:`flowopt._render.CATEGORY_NAMES`. Everything else is defined once
below. The registry is imported on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from flowopt._render import CATEGORY_NAMES, check_lang

__all__ = [
    "HEADERS",
    "TEXT",
    "UNITS",
    "VALUES",
    "Label",
    "category",
    "check_lang",
    "cost_term",
    "family",
    "header",
    "name_of",
    "text",
    "unit",
    "value",
    "where",
]


class Label(NamedTuple):
    """A text in English and Chinese."""

    en: str
    zh: str

    def pick(self, lang: str) -> str:
        """The text in ``lang`` (``zh`` for Chinese, anything else English)."""
        return self.zh if lang == "zh" else self.en


L = Label

#: Units: key -> label. The key is the English unit flowopt uses in field docs and JSON.
UNITS: dict[str, Label] = {
    "t/yr": L("t/yr", "吨/年"),
    "t": L("t", "吨"),
    "Mt/yr": L("Mt/yr", "百万吨/年"),
    "10kt/yr": L("10 kt/yr", "万吨/年"),
    "CNY/yr": L("CNY/yr", "元/年"),
    "CNY": L("CNY", "元"),
    "10k CNY/yr": L("10k CNY/yr", "万元/年"),
    "100M CNY/yr": L("100 M CNY/yr", "亿元/年"),
    "M CNY/yr": L("M CNY/yr", "百万元/年"),
    "CNY/t": L("CNY/t", "元/吨"),
    "CNY/(t·km)": L("CNY/(t·km)", "元/(吨·公里)"),
    "CNY/(t/yr)": L("CNY per t/yr", "元/(吨/年)"),
    "yr": L("yr", "年"),
    "CNY/yr per point": L("CNY/yr per percentage point", "元/年/百分点"),
    "km": L("km", "公里"),
    "fraction": L("fraction", "比例"),
    "fraction 0–1": L("fraction 0–1", "比例 0–1"),
    "%": L("%", "%"),
    "pp": L("pp", "个百分点"),
    "s": L("s", "秒"),
    "ms": L("ms", "毫秒"),
}

#: Coded values shown to people: group -> code -> label.
VALUES: dict[str, dict[str, Label]] = {
    "flow_kind": {"reuse": L("reuse", "综合利用"), "disposal": L("disposal", "处置"), "storage": L("storage", "贮存"), "unmanaged": L("unmanaged", "未妥善处置")},
    "origin": {"new": L("current year", "当年产生"), "legacy": L("prior-year stock", "往年贮存")},
    "source_kind": {"generation": L("generation", "当年产生"), "stock": L("stock reclaim", "堆存回采"), "residue": L("project residue", "项目残渣")},
    "destination_kind": {"project": L("project", "项目"), "sink": L("site", "设施"), "unmanaged": L("unmanaged", "未妥善处置")},
    "outlet_kind": {"project": L("project", "项目"), "sink": L("site", "设施")},
    "why_not": {"unused": L("unused", "未使用"), "below_capacity": L("below capacity", "未满负荷")},
    "change": {"appeared": L("appeared", "新出现"), "vanished": L("vanished", "已消失"), "price_changed": L("price changed", "价格变化")},
    "rate_mode": {
        "utilization": L("utilization rate", "综合利用率"),
        "utilization_plus_disposal": L("utilization plus disposal rate", "综合利用处置率"),
        "disposal_only": L("disposal rate", "处置率"),
    },
    "status": {
        "optimal": L("optimal", "最优"),
        "infeasible": L("infeasible", "不可行"),
        "feasible_alone": L("feasible alone", "单独可行"),
        "not_solved": L("not solved", "未求解"),
        "audit_failed": L("audit failed", "审计未通过"),
        "error": L("error", "出错"),
        "input_invalid": L("invalid input", "输入有误"),
        "graph_invalid": L("invalid network", "网络有误"),
        "scenario_too_large": L("scenario too large", "情景过大"),
        "solve_failed": L("solve failed", "求解失败"),
        "unbounded": L("unbounded", "无界"),
        "solver_limit": L("solver limit", "求解器达到限制"),
        "solver_failure": L("solver failure", "求解器故障"),
        "output_invalid": L("output refused", "输出被拒绝"),
    },
    "sink_kind": {"landfill": L("landfill", "填埋场"), "slag_yard": L("slag yard", "渣场"), "tailings_dam": L("tailings dam", "尾矿库"), "other": L("other", "其他")},
    "audit": {
        "non_negative": L("no negative tonnes", "吨数非负"),
        "permitted": L("permitted movements and tariffs", "运输许可与运价"),
        "mass_balance": L("mass balance", "物料平衡"),
        "project_capacity": L("project capacity", "项目产能"),
        "project_min_intake": L("project minimum intake", "项目最低进料"),
        "sink_capacity": L("site capacity", "设施容量"),
        "route_capacity": L("route capacity", "路线运力"),
        "stock_reclaim": L("reclaim limits", "回采上限"),
        "quality": L("feed quality", "进料品质"),
        "feed_share": L("feed shares", "进料占比"),
        "no_unmanaged_stock": L("no reclaimed stock left unmanaged", "回采物料均得到处置"),
        "target": L("target reached", "目标达成"),
        "objective": L("objective equals its terms", "目标函数与分项一致"),
        "yearly_audits": L("every year's audit", "各年审计"),
        "stock_total": L("reclaim within each pile's stock", "回采不超过堆存量"),
        "stock_carried": L("stock carried between years", "年际堆存结转"),
        "stock_non_negative": L("no negative stock", "堆存量非负"),
        "build_capacity": L("capacity used only where built", "仅使用已建能力"),
        "build_sizes": L("build sizes", "建设规模"),
        "build_available": L("builds available and as forced", "建设年份与指定决策"),
        "exclusive_groups": L("at most one alternative per group", "互斥组至多建一个"),
        "capital_budget": L("capital within budget", "投资不超预算"),
        "capital_cost": L("capital annualized as stated", "投资年值核算"),
        "sink_airspace": L("site airspace", "设施剩余库容"),
        "co2_cap": L("CO2 within the cap", "二氧化碳排放不超上限"),
        "airspace_total": L("intake within each site's airspace over the years", "多年进场量不超剩余库容"),
        "airspace_carried": L("airspace carried between years", "年际库容结转"),
    },
    "table": {
        "sites": L("sites", "场地"),
        "firms": L("firms", "企业"),
        "streams": L("waste streams", "固废物料流"),
        "composition": L("composition", "成分"),
        "stockpiles": L("stockpiles", "历史堆存"),
        "projects": L("reuse projects", "综合利用项目"),
        "sinks": L("disposal and storage sites", "处置/贮存设施"),
        "accepts": L("accepted streams", "接收关系"),
        "residues": L("residues", "项目残渣"),
        "quality": L("quality limits", "进料品质限值"),
        "distances": L("distances", "距离"),
        "routes": L("route rules", "运输路线规则"),
    "candidates": L("investment candidates", "投资候选项目"),
        "scenario": L("manifest settings", "方案参数"),
    },
    "source_class": {"cited": L("cited", "引用"), "estimate": L("contains estimates", "含估算"), "none": L("no source", "无来源")},
}

#: Unit of a bottleneck card's shadow price, by the card's kind (constraint family).
SHADOW_UNITS: dict[str, Label] = {
    "project_capacity": L("CNY/yr per t/yr of capacity", "元/年（每吨/年产能）"),
    "project_min_intake": L("CNY/yr per t/yr of minimum intake", "元/年（每吨/年最低进料）"),
    "sink_capacity": L("CNY/yr per t/yr of capacity", "元/年（每吨/年容量）"),
    "route_capacity": L("CNY/yr per t/yr of route capacity", "元/年（每吨/年运力）"),
    "stock_reclaim_limit": L("CNY/yr per t/yr of reclaim", "元/年（每吨/年回采量）"),
    "quality_max": L("CNY/yr per percentage point of the limit", "元/年（每百分点限值）"),
    "quality_min": L("CNY/yr per percentage point of the limit", "元/年（每百分点限值）"),
    "feed_share": L("CNY/yr per percentage point of share", "元/年（每百分点占比）"),
    "target": L("CNY/yr per percentage point of the target", "元/年（目标每百分点）"),
    "sink_airspace": L("CNY/yr per t of airspace", "元/年（每吨库容）"),
    "co2_cap": L("CNY per tCO2 (CNY/yr per tCO2/yr of the cap)", "元/吨二氧化碳（上限每放宽 1 吨/年）"),
}

#: Table headers: field -> (label, unit key or ""). Shared by the text tables and the workbook.
HEADERS: dict[str, tuple[Label, str]] = {
    "rank": (L("Rank", "序号"), ""),
    "id": (L("Id", "编号"), ""),
    "stream": (L("Stream", "物料流"), ""),
    "stream_name": (L("Stream name", "物料流名称"), ""),
    "category": (L("Category", "类别"), ""),
    "origin": (L("Origin", "来源期"), ""),
    "origin_label": (L("Origin", "来源说明"), ""),
    "source_kind": (L("Source kind", "来源类型"), ""),
    "source": (L("Source", "来源"), ""),
    "from_site": (L("From site", "起点"), ""),
    "destination": (L("Destination", "去向"), ""),
    "destination_name": (L("Destination name", "去向名称"), ""),
    "destination_kind": (L("Destination kind", "去向类型"), ""),
    "kind": (L("Kind", "类型"), ""),
    "tonnes": (L("Tonnes", "吨数"), "t/yr"),
    "distance_km": (L("Distance", "距离"), "km"),
    "transport_cny": (L("Transport", "运输费"), "CNY/yr"),
    "handling_cny": (L("Processing or fee", "加工/处置费"), "CNY/yr"),
    "revenue_cny": (L("Revenue", "收入"), "CNY/yr"),
    "tax_cny": (L("Environmental tax", "环保税"), "CNY/yr"),
    "penalty_cny": (L("Penalty", "罚金"), "CNY/yr"),
    "cost_cny": (L("Net cost", "净成本"), "CNY/yr"),
    "root": (L("Root (stream or stockpile)", "源头（物料流或堆存）"), ""),
    "firm": (L("Firm", "企业"), ""),
    "firm_name": (L("Firm name", "企业名称"), ""),
    "supplied_t": (L("Supplied", "供给量"), "t/yr"),
    "utilized_t": (L("Utilized", "综合利用量"), "t/yr"),
    "disposed_t": (L("Disposed", "处置量"), "t/yr"),
    "stored_t": (L("Stored", "贮存量"), "t/yr"),
    "unmanaged_t": (L("Unmanaged", "未妥善处置量"), "t/yr"),
    "lost_t": (L("Process losses", "工艺损失"), "t/yr"),
    "generated_t": (L("Generated", "产生量"), "t/yr"),
    "reclaimed_t": (L("Reclaimed from stock", "回采量"), "t/yr"),
    "outlet": (L("Outlet", "设施"), ""),
    "name": (L("Name", "名称"), ""),
    "intake_t": (L("Intake", "进料量"), "t/yr"),
    "capacity_t": (L("Capacity", "能力"), "t/yr"),
    "spare_t": (L("Spare capacity", "剩余能力"), "t/yr"),
    "min_intake_t": (L("Minimum intake", "最低进料"), "t/yr"),
    "load_share": (L("Load", "负荷率"), "fraction"),
    "full": (L("Full", "满负荷"), ""),
    "group": (L("Group", "分组"), ""),
    "group_name": (L("Group name", "分组名称"), ""),
    "utilized_prior_t": (L("of which prior-year stock", "其中往年贮存利用"), "t/yr"),
    "rate": (L("Utilization rate", "综合利用率"), "fraction"),
    "constraint": (L("Constraint", "约束"), ""),
    "subject": (L("Subject", "对象"), ""),
    "subject_name": (L("Subject name", "对象名称"), ""),
    "shadow_price": (L("Shadow price", "影子价格"), ""),
    "unit": (L("Unit", "单位"), ""),
    "limit": (L("Limit", "限值"), ""),
    "valid_from": (L("Valid from", "有效区间下限"), ""),
    "valid_to": (L("Valid to", "有效区间上限"), ""),
    "tonnes_at_stake": (L("Tonnes at stake", "可放宽吨数"), "t/yr"),
    "cny_at_stake": (L("Money at stake", "涉及金额"), "CNY/yr"),
    "status": (L("Status", "状态"), ""),
    "reduced_cost_cny_per_t": (L("Reduced cost", "检验数"), "CNY/t"),
    "break_even_cny_per_t": (L("Break-even cut", "盈亏平衡降幅"), "CNY/t"),
    "entering_stream": (L("First stream it would take", "首先接收的物料流"), ""),
    "entering_source": (L("Its source", "该物料流来源"), ""),
    "explanation": (L("Explanation", "说明"), ""),
    "check": (L("Check", "检查项"), ""),
    "passed": (L("Passed", "通过"), ""),
    "worst_violation": (L("Worst violation", "最大偏差"), ""),
    "detail": (L("Detail", "详情"), ""),
    "item": (L("Item", "项目"), ""),
    "value": (L("Value", "数值"), ""),
    "metric": (L("Indicator", "指标"), ""),
    "term": (L("Cost term", "成本分项"), ""),
    "base": (L("Base", "基准"), ""),
    "whatif": (L("What-if", "情景"), ""),
    "delta": (L("Change", "变化"), ""),
    "base_t": (L("Base", "基准"), "t/yr"),
    "whatif_t": (L("What-if", "情景"), "t/yr"),
    "delta_t": (L("Change", "变化"), "t/yr"),
    "delta_cost_cny": (L("Cost change", "成本变化"), "CNY/yr"),
    "target": (L("Target", "目标"), ""),
    "objective_cny": (L("Total cost", "年总成本"), "CNY/yr"),
    "cny_per_point": (L("Cost of one more point", "每百分点成本"), "CNY/yr"),
    "segment": (L("Segment", "区段"), ""),
    "utilization_rate": (L("Utilization rate", "综合利用率"), ""),
    "max_utilization_rate": (L("Highest reachable", "最高可达"), ""),
    "warm": (L("Warm", "热启动"), ""),
    "seconds": (L("Time", "用时"), "s"),
    "message": (L("Message", "说明"), ""),
    "year": (L("Year", "年份"), ""),
    "reached": (L("Reached", "达到"), ""),
    "met": (L("Met", "达标"), ""),
    "max_rate": (L("Highest", "最高可达"), ""),
    "audit": (L("Audit", "审计"), ""),
    "starting": (L("New in operation", "新投运"), ""),
    "reclaim_t": (L("Reclaimed", "回采量"), "t/yr"),
    "sheet": (L("Sheet", "工作表"), ""),
    "table": (L("Table", "表名"), ""),
    "field": (L("Field", "字段"), ""),
    "required": (L("Required", "必填"), ""),
    "type": (L("Type", "类型"), ""),
    "default": (L("Default", "默认值"), ""),
    "description": (L("Description", "说明"), ""),
    "key": (L("Key", "键"), ""),
    "class": (L("Class", "类别"), ""),
    "items": (L("Items", "条数"), ""),
}

#: Comparison and batch indicators (``KpiRow.metric``): metric -> (label, unit key).
METRICS: dict[str, tuple[Label, str]] = {
    "utilization_rate": (L("utilization rate (official)", "综合利用率（官方口径）"), "fraction"),
    "utilization_plus_disposal_rate": (L("utilization plus disposal rate", "综合利用处置率"), "fraction"),
    "disposal_rate": (L("disposal rate", "处置率"), "fraction"),
    "objective_cny": (L("total cost", "年总成本"), "CNY/yr"),
    "target": (L("target", "目标"), "fraction"),
    "max_utilization_rate": (L("highest reachable rate", "最高可达利用率"), "fraction"),
    "target_cny_per_point": (L("cost of one more point of target", "目标每提高 1 个百分点的成本"), "CNY/yr"),
    "generated_t": (L("generated G", "产生量 G"), "t/yr"),
    "reclaimed_t": (L("reclaimed from stock", "回采量"), "t/yr"),
    "utilized_t": (L("utilized U", "综合利用量 U"), "t/yr"),
    "utilized_new_t": (L("of which current generation", "其中当年产生"), "t/yr"),
    "utilized_prior_t": (L("of which prior-year stock U_prior", "其中往年贮存 U_prior"), "t/yr"),
    "disposed_t": (L("disposed D", "处置量 D"), "t/yr"),
    "stored_t": (L("stored S", "贮存量 S"), "t/yr"),
    "unmanaged_t": (L("unmanaged", "未妥善处置"), "t/yr"),
    "lost_t": (L("process losses (not booked as utilized)", "工艺损失（未计入利用）"), "t/yr"),
}

#: Headings, sentences and words of the renderers: key -> label (``str.format`` fields in braces).
TEXT: dict[str, Label] = {
    # plan (flowopt solve)
    "plan.title": L("flowopt plan: {id}", "flowopt 方案：{id}"),
    "plan.target": L("Target: {target} ({mode})  ->  reached {reached}  [{met}]", "目标：{target}（{mode}）→ 达到 {reached}［{met}］"),
    "plan.rates": L("Official rates: utilization {u} (U/(G+U_prior)), utilization plus disposal {ud} ((U+D)/(G+U_prior+D_prior)), disposal {d} (D/G){mark}", "官方口径：综合利用率 {u}（U/(G+U_prior)），综合利用处置率 {ud}（(U+D)/(G+U_prior+D_prior)），处置率 {d}（D/G）{mark}"),
    "plan.rates_target": L("; the target applies to the {mode}", "；目标适用于{mode}"),
    "diag.rate_note": L("The target applies to the {mode}. The screens and the minimum cut below count utilization capacity only.", "目标适用于{mode}。以下筛查与最小割只计综合利用产能。"),
    "plan.cost": L("Total cost: {cost}   (audit: {audit})", "年总成本：{cost}（审计：{audit}）"),
    "plan.tonnes": L("Tonnes per year (t/yr):", "年吨数（吨/年）："),
    "plan.prior": L("prior-year stock {t}", "其中往年贮存 {t}"),
    "plan.cost_terms": L("Cost terms (CNY/yr; revenue and incentives subtracted):", "成本分项（元/年；收入与税收优惠为减项）："),
    "plan.flows": L("Flows ({shown} of {total}, largest first; --all-flows for all):", "流向（共 {total} 条，列出最大的 {shown} 条；--all-flows 显示全部）："),
    "plan.flows_all": L("Flows ({total}, largest first):", "流向（共 {total} 条，按吨数排序）："),
    "plan.flows_by": L("Flows by {by} ({n} groups, largest first; --all-flows for every flow of a group):", "按{by}分组的流向（{n} 组，按吨数排序；--all-flows 显示每组全部流向）："),
    "plan.group": L("{name}: {tonnes} t/yr, net cost {cost}", "{name}：{tonnes} 吨/年，净成本 {cost}"),
    "plan.group_more": L("    … and {n} more", "    ……另有 {n} 条"),
    "plan.loads": L("Outlet loads:", "项目与设施负荷："),
    "plan.by_category": L("Rates by waste category:", "分类综合利用率："),
    "plan.by_firm": L("Rates by firm:", "分企业综合利用率："),
    "plan.bottlenecks": L("Bottlenecks ({n} binding limits, most valuable first):", "瓶颈（{n} 个起约束作用的限制，按价值排序）："),
    "plan.warnings": L("Warnings:", "警告："),
    "met": L("met", "已实现"),
    "not_met": L("NOT met", "未实现"),
    "passed": L("passed", "通过"),
    "failed": L("FAILED", "未通过"),
    "yes": L("yes", "是"),
    "no": L("no", "否"),
    "no_limit": L("no limit", "无上限"),
    "unbounded": L("unbounded", "无上限"),
    "n/a": L("n/a", "—"),
    "none": L("none", "无"),
    "total_cost": L("total cost", "年总成本"),
    "revenue_subtracted": L("{term} (subtracted)", "{term}（减项）"),
    # explain
    "explain.title": L("flowopt explain: {id}", "flowopt 方案说明：{id}"),
    "explain.head": L("Target {target} ({mode}); reached {reached}; total cost {cost}", "目标 {target}（{mode}）；达到 {reached}；年总成本 {cost}"),
    "explain.max": L("Highest reachable rate (cost ignored): {rate}", "不计成本时最高可达：{rate}"),
    "explain.bottlenecks": L("Bottlenecks ({n}, ranked by money at stake):", "瓶颈（{n} 个，按涉及金额排序）："),
    "explain.stake": L("at stake {money}", "涉及 {money}"),
    "explain.why_not": L("Why not? Projects unused or below capacity ({n}):", "未用足的项目（{n} 个）："),
    # diagnosis
    "diag.title": L("Target not reachable", "目标无法实现"),
    "diag.relaxations": L("Cheapest relaxation (ranked at an assumed {price} per t/yr of new capacity):", "最经济的调整（按每吨/年新增产能 {price} 的假定代价排序）："),
    "diag.screens": L("Screens (no solver needed):", "预检查（无需求解）："),
    "diag.min_cut": L("Minimum cut (the capacities that limit utilization):", "最小割（限制综合利用的产能）："),
    "diag.conflict": L("Conflicting limits (irreducible infeasible subset):", "相互冲突的约束（不可行子集）："),
    # compare
    "compare.title": L("flowopt compare: {base} -> {whatif}", "flowopt 方案对比：{base} → {whatif}"),
    "compare.kpis": L("Indicators:", "指标："),
    "compare.cost_terms": L("Cost terms (effect on cost, CNY/yr):", "成本分项（对成本的影响，元/年）："),
    "compare.flows": L("Flows that changed ({n}, largest first):", "变化的流向（{n} 条，按变化量排序）："),
    "compare.flows_more": L("  … and {n} more (see flows.csv with --out)", "  ……另有 {n} 条（用 --out 写出 flows.csv 查看）"),
    "compare.bottlenecks": L("Bottlenecks that changed:", "瓶颈变化："),
    "compare.warm": L("What-if solved warm (the base model updated in place): {ms}, {it} simplex iterations.", "情景热启动求解（在基准模型上直接修改）：{ms}，{it} 次单纯形迭代。"),
    "compare.cold": L("What-if solved after a rebuild (the network changed): {ms}, {it} simplex iterations.", "情景重建后求解（网络有变化）：{ms}，{it} 次单纯形迭代。"),
    # sweep
    "curve.title": L("flowopt sweep: {id} ({mode}), targets {lo}–{hi}", "flowopt 目标—成本曲线：{id}（{mode}），目标 {lo}–{hi}"),
    "curve.max": L("Highest reachable rate: {rate}", "最高可达：{rate}"),
    "curve.breakpoints": L("Breakpoints: {points}", "断点：{points}"),
    "curve.segment": L("  {lo} – {hi}: {label} [cost of one more point {prices}]", "  {lo} – {hi}：{label}［每提高 1 个百分点 {prices}］"),
    "curve.none": L("No target in [{lo}, {hi}] is reachable: the highest reachable rate is {max}.", "区间 [{lo}, {hi}] 内没有可实现的目标：最高可达 {max}。"),
    "cli.plan_written": L("Written to {out}/: plan.json, CSV tables, plan.xlsx, sankey.svg, sankey.html, report.html, report.md.", "已写入 {out}/：plan.json、CSV 表、plan.xlsx、sankey.svg、sankey.html、report.html、report.md。"),
    "cli.pathway_written": L("Written to {out}/: pathway.json, pathway.csv, stock.csv and one folder of plan files per year.", "已写入 {out}/：pathway.json、pathway.csv、stock.csv，以及每年一个方案文件夹。"),
    "cli.template_written": L("Written: {out} (fill in the table sheets, see the 'dictionary' sheet; then: flowopt solve {out})", "已写出：{out}（按“数据字典”工作表填写各数据表，然后运行：flowopt solve {out}）"),
    "cli.written": L("Written: {out}", "已写出：{out}"),
    "curve.written": L("Written: {out}/curve.csv, segments.csv, curve.svg, curve.png", "已写出：{out}/curve.csv、segments.csv、curve.svg、curve.png"),
    # batch
    "batch.failed": L("What-ifs without a plan:", "没有方案的情景："),
    # pathway
    "pathway.title": L("flowopt pathway: {id} ({span}; base {base})", "flowopt 多年路径：{id}（{span}；基准 {base}）"),
    "pathway.status": L("Status: {status}. {message}", "状态：{status}。{message}"),
    "pathway.ok": L("Every year meets its target; stock carried between years is consistent.", "每年均达到目标；年际结转的堆存量一致。"),
    "pathway.infeasible": L("The pathway is infeasible.", "该路径不可行。"),
    "pathway.failed": L("The pathway failed a check against the input data.", "该路径未通过对输入数据的核对。"),
    "pathway.cost": L("Total cost: {cost} (present value at {rate}; plain sum {plain})   (audit: {audit})", "总成本：{cost}（按 {rate} 折现；未折现合计 {plain}）（审计：{audit}）"),
    "pathway.max_target": L("max = {rate}", "最高 = {rate}"),
    "pathway.stock": L("Legacy stock (t at the start of each year, then at the end of the last):", "历史堆存（各年年初吨数，最后为末年年末）："),
    "pathway.short": L("  Stock runs short for: {piles}", "  堆存不足：{piles}"),
    "pathway.short_item": L("{pile} (worth {price} CNY/t, present value)", "{pile}（现值 {price} 元/吨）"),
    "pathway.no_short": L("  No stockpile runs out within the pathway (the yearly reclaim limits bind first).", "  路径期内没有堆存被用尽（年回采上限先起约束作用）。"),
    "pathway.bottlenecks": L("Bottlenecks per year (shadow prices in that year's CNY):", "各年瓶颈（影子价格按当年元计）："),
    "pathway.year_binding": L("  {year} ({n} binding):", "  {year} 年（{n} 个起约束作用）："),
    "pathway.checks": L("Pathway checks: {checks}", "路径核对：{checks}"),
    "ok": L("ok", "通过"),
    # charts
    "chart.curve_title": L("Target–cost curve: utilization target vs least total cost", "达标成本曲线：综合利用率目标与年总成本"),
    "chart.target_axis": L("Utilization target", "综合利用率目标"),
    "chart.cost_axis": L("Total cost ({unit})", "年总成本（{unit}）"),
    "chart.max_reachable": L("max reachable {rate}", "最高可达 {rate}"),
    "chart.target_marker": L("target {rate}", "目标 {rate}"),
    "chart.slope": L(" ({value} per percentage point)", "（每百分点 {value}）"),
    "chart.unreachable": L("unreachable targets (no feasible plan)", "无法实现的目标（无可行方案）"),
    "chart.segment": L("segment {n}", "区段 {n}"),
    "chart.compare_title": L("Plan comparison: {a} vs {b}", "方案对比：{a} 与 {b}"),
    "chart.rates": L("Rates (%)", "比率（%）"),
    "chart.tonnes": L("Tonnes by fate ({unit})", "年吨数（{unit}）"),
    "chart.costs": L("Cost terms ({unit}; revenue negative)", "成本构成（{unit}，收入为负）"),
    "chart.delta": L("change B − A", "变化 B − A"),
    "chart.delta_good": L("change B − A, better", "变化 B − A：改善"),
    "chart.delta_bad": L("change B − A, worse", "变化 B − A：变差"),
    "chart.base": L("A: {name}", "A：{name}"),
    "chart.whatif": L("B: {name}", "B：{name}"),
    "chart.no_data": L("No data", "无数据"),
    "chart.no_change": L("no change", "无变化"),
}


def text(key: str, lang: str, /, **values: Any) -> str:
    """Return the text ``key`` of :data:`TEXT` in ``lang`` with ``values`` filled in.

    Args:
        key: a key of :data:`TEXT`.
        lang: ``en`` or ``zh``.
        values: the template's fields.

    Returns:
        The text.
    """
    label = TEXT[key].pick(lang)
    return label.format(**values) if values else label


def unit(key: str, lang: str) -> str:
    """Unit ``key`` (``t/yr``, ``CNY/yr``, ``CNY/t`` …) in ``lang``; unknown keys are returned as given."""
    label = UNITS.get(key)
    return label.pick(lang) if label else key


def value(group: str, code: object, lang: str) -> str:
    """Label of a coded value (``value("flow_kind", "reuse", "zh") == "综合利用"``); unknown codes as given."""
    if code is None:
        return ""
    label = VALUES.get(group, {}).get(str(code))
    return label.pick(lang) if label else str(code)


def category(code: str | None, lang: str) -> str:
    """Display name of a waste category (``smelting_slag`` -> ``冶炼渣``); unknown codes as given."""
    if code is None:
        return ""
    zh, en = CATEGORY_NAMES.get(code, (code, code))
    return zh if lang == "zh" else en


def cost_term(name: str, lang: str) -> str:
    """Label of an objective term from the registry (``transport_cny`` -> ``运输``)."""
    from flowopt.formulation.families import TERMS

    term = next((t for t in TERMS if t.name == name), None)
    if term is None:
        return name
    return term.label_zh if lang == "zh" else term.label_en


def family(name: str, lang: str) -> str:
    """Label of a constraint family from the registry (``project_capacity`` -> ``项目产能``)."""
    from flowopt.formulation.families import FAMILIES, STOCK_TOTAL

    fam = FAMILIES.get(name) or (STOCK_TOTAL if name == STOCK_TOTAL.name else None)
    if fam is None:
        return name
    return fam.label_zh if lang == "zh" else fam.label_en


def shadow_unit(kind: str, lang: str, fallback: str = "") -> str:
    """Unit of a bottleneck card's shadow price (by the card's kind) in ``lang``."""
    label = SHADOW_UNITS.get(kind)
    return label.pick(lang) if label else fallback


def metric(name: str, lang: str) -> tuple[str, str]:
    """``(label, unit key)`` of a comparison indicator (unknown: the name and no unit)."""
    entry = METRICS.get(name)
    if entry is None:
        return name, ""
    return entry[0].pick(lang), entry[1]


def header(field: str, lang: str, *, with_unit: bool = True) -> str:
    """Column header of a table field: ``吨数（吨/年）`` or ``Tonnes (t/yr)``.

    Args:
        field: a key of :data:`HEADERS` (unknown fields are returned unchanged).
        lang: ``en`` or ``zh``.
        with_unit: append the unit in brackets when the field has one.

    Returns:
        The header text.
    """
    entry = HEADERS.get(field)
    if entry is None:
        return field
    label, unit_key = entry
    head = label.pick(lang)
    if not (with_unit and unit_key) or unit_key == "fraction":  # fractions are shown as percentages
        return head
    u = unit(unit_key, lang)
    return f"{head}（{u}）" if lang == "zh" else f"{head} ({u})"


def name_of(labels: Mapping[str, Mapping[str, str]], ident: str | None, lang: str, *, fallback_id: bool = True) -> str:
    """Display name of a record from a plan's ``labels`` (``name_zh``/``name_en``).

    Args:
        labels: ``Plan.labels``.
        ident: the record's id.
        lang: ``en`` or ``zh``.
        fallback_id: return the id when the record has no name in ``lang`` (else ``""``).

    Returns:
        The name in ``lang``, else in the other language, else the id (or ``""``).
    """
    if not ident:
        return ""
    names = labels.get(ident, {})
    first, second = ("name_zh", "name_en") if lang == "zh" else ("name_en", "name_zh")
    return names.get(first) or names.get(second) or (ident if fallback_id else "")


_ROW = re.compile(r"\brow (\d+)\b")


def where(text_: str | None, lang: str) -> str:
    """Where an input record comes from (``projects.csv row 4``), in ``lang`` (``projects.csv 第 4 行``)."""
    if not text_:
        return ""
    return _ROW.sub(r"第 \1 行", text_) if lang == "zh" else text_


# ---------------------------------------------------------------------------------------------
# flowopt risk (flowopt.risk): headings, sentences, chart labels; the uncertainty table's name
# ---------------------------------------------------------------------------------------------

VALUES["table"]["uncertainty"] = L("uncertain inputs", "不确定输入")
VALUES["distribution"] = {
    "uniform": L("uniform", "均匀分布"),
    "triangular": L("triangular", "三角分布"),
    "normal": L("normal", "正态分布"),
    "lognormal": L("lognormal", "对数正态分布"),
    "discrete": L("discrete", "离散分布"),
    "alternatives": L("alternatives", "备选情形"),
}
VALUES["method"] = {"lhs": L("Latin hypercube", "拉丁超立方抽样"), "sobol": L("scrambled Sobol' points", "扰动 Sobol 序列"), "random": L("independent random draws", "独立随机抽样")}
VALUES["status"] |= {"ok": L("solved", "已求解"), "no_plan": L("no plan", "无可行方案")}
TEXT.update({
    "risk.title": L("flowopt risk: {id} ({mode}), target {target}", "flowopt 达标概率分析：{id}（{mode}），目标 {target}"),
    "risk.probability": L("Probability that {target} is reachable with the current network: {p} (95 % interval {lo}–{hi}; {k} of {n} samples)", "以现有网络达到 {target} 的概率：{p}（95% 区间 {lo}–{hi}；{n} 个样本中 {k} 个达标）"),
    "risk.with_builds": L("Probability with the build set {name}: {p} (95 % interval {lo}–{hi}; {k} of {n} samples)", "建设方案 {name} 下的概率：{p}（95% 区间 {lo}–{hi}；{n} 个样本中 {k} 个达标）"),
    "risk.builds_later": L("Probability with a build set: give one with --builds (the investment model will propose one).", "建设方案下的概率：用 --builds 指定建设方案（投资优化模型将给出方案）。"),
    "risk.deterministic": L("With the scenario's own values: highest rate {rate}, least cost at the target {cost}.", "按情景原值：最高可达 {rate}，达标最低年总成本 {cost}。"),
    "risk.deterministic_unreachable": L("With the scenario's own values: highest rate {rate}; the target is out of reach.", "按情景原值：最高可达 {rate}，目标无法实现。"),
    "risk.samples": L("Samples: {n} of {asked} ({method}, seed {seed}, {engine}); {failed} failed; {warm} started warm; {seconds}.", "样本：{asked} 个中运行 {n} 个（{method}，随机种子 {seed}，{engine}）；失败 {failed} 个；热启动 {warm}；用时 {seconds}。"),
    "risk.stopped": L("Stopped early: the 95 % interval became narrower than {tol} after {n} samples (stopping on the data lowers the interval's coverage somewhat).", "提前停止：{n} 个样本后 95% 区间已窄于 {tol}（按结果提前停止会使区间覆盖率略低于名义值）。"),
    "risk.max_rate": L("Highest reachable rate: P10 {p10}, P50 {p50}, P90 {p90} (mean {mean}).", "最高可达利用率：P10 {p10}，P50 {p50}，P90 {p90}（均值 {mean}）。"),
    "risk.cost": L("Least cost at the target, over the {n} samples that reach it: P10 {p10}, P50 {p50}, P90 {p90}.", "达标样本（{n} 个）的最低年总成本：P10 {p10}，P50 {p50}，P90 {p90}。"),
    "risk.no_cost": L("No sample reaches the target, so there is no cost at the target.", "没有样本达到目标，因此没有达标成本。"),
    "risk.tornado": L("What moves the highest rate most (one input at a time, the others as in the scenario):", "对最高可达利用率影响最大的输入（逐一变动，其余取情景原值）："),
    "risk.bar": L("  {label}: {lo_rate} at {lo} … {hi_rate} at {hi} (swing {swing}; rank correlation {rho})", "  {label}：取 {lo} 时 {lo_rate} … 取 {hi} 时 {hi_rate}（变幅 {swing}；秩相关 {rho}）"),
    "risk.limits": L("How often limits bind (in the least-cost plan at the target / at the highest rate), those that do not always bind first:", "约束起作用的频率（达标最低成本方案中 / 最高可达利用率时），非始终起作用者在前："),
    "risk.limit": L("  {label}: {plan} / {max}", "  {label}：{plan} / {max}"),
    "risk.always": L("  … and {n} limits that bind in every sample (see limits.csv with --out)", "  ……另有 {n} 个约束在每个样本中都起作用（用 --out 写出 limits.csv 查看）"),
    "risk.inputs": L("Uncertain inputs ({n}):", "不确定输入（{n} 个）："),
    "risk.input": L("  {id} {name}: {describe}{group}; in the scenario {current}", "  {id} {name}：{describe}{group}；情景原值 {current}"),
    "risk.group": L(" (group {group})", "（同组 {group}）"),
    "risk.failed": L("Samples without an answer ({n}), first {shown}:", "无结果的样本（{n} 个），前 {shown} 个："),
    "risk.written": L("Written: {out}/risk.json, samples.csv, limits.csv, tornado.csv, histogram.svg/.png, tornado.svg/.png", "已写出：{out}/risk.json、samples.csv、limits.csv、tornado.csv、histogram.svg/.png、tornado.svg/.png"),
    "risk.method_note": L("Interval: Wilson score interval at 95 %; samples in Latin-hypercube blocks of {block} (conservative for such blocks).", "区间：95% Wilson 得分区间；样本按每块 {block} 个拉丁超立方抽样（对此类分块抽样偏保守）。"),
    "chart.hist_title": L("Highest reachable rate over {n} samples: P(≥ {target}) = {p}", "{n} 个样本的最高可达利用率：P(≥ {target}) = {p}"),
    "chart.hist_axis": L("Highest reachable rate (%)", "最高可达利用率（%）"),
    "chart.samples_axis": L("Samples", "样本数"),
    "chart.reaches": L("reaches the target", "达到目标"),
    "chart.misses": L("misses the target", "未达目标"),
    "chart.scenario_value": L("scenario's values {rate}", "情景原值 {rate}"),
    "chart.tornado_title": L("What moves the highest reachable rate (each input alone, others as in the scenario)", "影响最高可达利用率的输入（逐一变动，其余取情景原值）"),
    "chart.tornado_axis": L("Highest reachable rate (%)", "最高可达利用率（%）"),
    "chart.input_low": L("input low", "输入取低值"),
    "chart.input_high": L("input high", "输入取高值"),
})

# flowopt invest: investment decisions (the words of format_investment, the report and the workbook)
TEXT.update({
    "invest.title": L("flowopt invest: {id}", "flowopt 投资决策：{id}"),
    "invest.status": L("Status: {status}; MIP gap {gap} (asked {asked}); {nodes} branch-and-bound nodes, {seconds}", "状态：{status}；混合整数间隙 {gap}（要求 {asked}）；分支定界节点 {nodes} 个，用时 {seconds}"),
    "invest.stopped": L("STOPPED AT A LIMIT (--time-limit) BEFORE PROVING OPTIMALITY: the incumbent below is within {gap} of the best bound {bound} (asked: {asked}).", "求解达到限制（--time-limit）而停止，未证明最优：以下为当前最好方案，与最优下界 {bound} 相差不超过 {gap}（要求 {asked}）。"),
    "invest.cost": L("Total cost: {total} = operating {operating} + annualized capital {capital} + fixed cost {fixed}   (audit: {audit})", "年总成本：{total} = 运营 {operating} + 投资年值 {capital} + 固定费用 {fixed}（审计：{audit}）"),
    "invest.capital": L("Capital of the builds: {capital} (discount rate {rate}; budget {budget})", "建设投资：{capital}（折现率 {rate}；预算 {budget}）"),
    "invest.no_budget": L("none", "不限"),
    "invest.builds": L("Candidates ({built} of {n} built):", "候选项目（{n} 个中建设 {built} 个）："),
    "invest.values": L("Value of each decision (the cost change if it were made the other way, CNY/yr; ranked):", "各项决策的价值（反向决策时年成本的变化，元/年；按价值排序）："),
    "invest.required": L("required", "必须"),
    "invest.break_even": L("Capital break-even of the candidates not built:", "未建设候选项目的投资盈亏平衡点："),
    "invest.given": L("Given the chosen builds", "以所选建设方案为前提"),
    "invest.bottlenecks": L("Bottlenecks given the chosen builds ({n}, most money at stake first; flowopt invest --json for all):", "以所选建设方案为前提的瓶颈（{n} 个，按涉及金额排序；全部见 flowopt invest --json）："),
    "invest.why_not": L("Why not? given the chosen builds ({n}):", "以所选建设方案为前提的未用足项目（{n} 个）："),
    "invest.infeasible": L("No build set reaches the target", "任何建设方案都无法实现目标"),
    "invest.written": L("Written to {out}/: invest.json, builds.csv, decision_values.csv, break_even.csv and the plan's files (plan.json, CSV tables, plan.xlsx, sankey.svg, sankey.html, report.html, report.md).", "已写出到 {out}/：invest.json、builds.csv、decision_values.csv、break_even.csv 及方案文件（plan.json、CSV 表、plan.xlsx、sankey.svg、sankey.html、report.html、report.md）。"),
    "invest.curve_title": L("flowopt invest --curve: {id}, targets {lo}–{hi} (highest reachable with the candidates: {max})", "flowopt 投资决策—目标成本曲线：{id}，目标 {lo}–{hi}（候选项目全部可建时最高可达：{max}）"),
    "invest.curve_changes": L("Where the build set changes (located within {res}):", "建设方案改变之处（定位精度 {res}）："),
    "invest.curve_none": L("The build set is the same at every target of the curve.", "曲线各目标下的建设方案相同。"),
    "invest.built_yes": L("built", "建设"),
    "invest.built_no": L("not built", "不建"),
    "invest.unavailable": L("not available", "不可建"),
    "invest.forced": L("forced: {how}", "指定：{how}"),
    "invest.forced_build": L("build", "建设"),
    "invest.forced_skip": L("skip", "不建"),
})

HEADERS.update({
    "candidate": (L("Candidate", "候选项目"), ""),
    "project": (L("Project", "项目"), ""),
    "sizing": (L("Sizing", "规模方式"), ""),
    "built": (L("Decision", "决策"), ""),
    "size_t": (L("Capacity added", "新增能力"), "t/yr"),
    "modules": (L("Modules", "模块数"), ""),
    "capital_cny": (L("Capital", "投资"), "CNY"),
    "annualized_cny": (L("Annualized capital", "投资年值"), "CNY/yr"),
    "fixed_opex_cny": (L("Fixed cost", "固定费用"), "CNY/yr"),
    "value_cny": (L("Value of the decision", "决策价值"), "CNY/yr"),
    "total_cost_cny": (L("Total cost the other way", "反向决策时年总成本"), "CNY/yr"),
    "forced_to": (L("Forced to", "反向决策"), ""),
    "factor": (L("Break-even / today's capital", "盈亏平衡投资/现估算"), "fraction"),
    "break_even_capital_cny": (L("Break-even capital", "盈亏平衡投资"), "CNY"),
})

VALUES["status"].update({"feasible": L("feasible, not proven optimal (time limit)", "可行但未证明最优（时间上限）")})


# issue 15, airspace and carbon: the plan's airspace and CO2 lines, the pathway's airspace, the
# cost-CO2 curve (flowopt sweep --co2)
TEXT.update({
    "plan.airspace": L("Airspace of the disposal and storage sites (t; years left at this year's intake):", "处置/贮存设施剩余库容（吨；按当年进场量计的剩余年限）："),
    "plan.airspace_row": L("  {sink:<6} {name}: {start} at the start, takes {intake}, {left} left: {years}", "  {sink:<6} {name}：年初 {start}，进场 {intake}，年末剩余 {left}：{years}"),
    "plan.co2": L("CO2 (tCO2/yr):", "二氧化碳排放（吨/年）："),
    "plan.co2_top": L("  largest by project (net): {items}", "  按项目（净排放）最大：{items}"),
    "pathway.airspace": L("Airspace (t left at the start of each year, then at the end of the last; years left at the last year's intake):", "剩余库容（各年年初吨数，最后为末年年末；按末年进场量计的剩余年限）："),
    "pathway.airspace_years": L("{years} years left", "尚可使用 {years} 年"),
    "pathway.airspace_never": L("takes nothing in the last year", "末年无进场"),
    "pathway.airspace_full": L("; full within the pathway: {price} CNY per extra t of airspace", "；路径内库容用尽：每增加 1 吨库容值 {price} 元"),
    "airspace.years": L("{years} years left", "尚可使用 {years} 年"),
    "airspace.never": L("takes nothing this year", "当年无进场"),
    "co2.title": L("flowopt sweep --co2: {id} ({mode} target {target}), CO2 caps {lo}–{hi} tCO2/yr ({basis})", "flowopt 成本—碳排放曲线：{id}（{mode}目标 {target}），排放上限 {lo}–{hi} 吨/年（{basis}）"),
    "co2.range": L("Least CO2 this network can emit at the target: {least} tCO2/yr; the least-cost plan emits {free} tCO2/yr.", "达标前提下最低可能排放：{least} 吨/年；最低成本方案排放 {free} 吨/年。"),
    "co2.breakpoints": L("Breakpoints (cap, tCO2/yr): {points}", "断点（排放上限，吨/年）：{points}"),
    "co2.segment": L("  {lo} – {hi} tCO2/yr: {label} [{prices} CNY per tCO2]", "  {lo} – {hi} 吨/年：{label}［{prices} 元/吨二氧化碳］"),
    "co2.none": L("No plan meets the target under any cap in [{lo}, {hi}] tCO2/yr: the least CO2 at the target is {least} tCO2/yr.", "在 [{lo}, {hi}] 吨/年的排放上限内没有达标方案：达标前提下最低排放为 {least} 吨/年。"),
    "co2.unreachable": L("The target cannot be met at all, so there is no cost–CO2 curve.", "目标本身无法实现，因此没有成本—碳排放曲线。"),
    "co2.written": L("Written: {out}/co2_curve.csv, co2_segments.csv, co2_curve.svg", "已写出：{out}/co2_curve.csv、co2_segments.csv、co2_curve.svg"),
    "co2.cap_binds": L("the cap binds", "排放上限起约束作用"),
    "co2.cap_free": L("the cap does not bind", "排放上限不起约束作用"),
    "chart.co2_title": L("Cost–CO2 trade-off: least cost under a cap on {basis} CO2", "成本—碳排放权衡：{basis}排放上限下的最低年总成本"),
    "chart.co2_axis": L("CO2 cap (tCO2/yr)", "二氧化碳排放上限（吨/年）"),
    "chart.co2_slope": L(" ({value} CNY per tCO2)", "（每吨二氧化碳 {value} 元）"),
})
VALUES["co2_basis"] = {"gross": L("gross", "总"), "net": L("net", "净")}
HEADERS.update({
    "sink": (L("Site", "设施"), ""),
    "remaining_start_t": (L("Airspace at the start", "年初剩余库容"), "t"),
    "remaining_t": (L("Airspace left", "年末剩余库容"), "t"),
    "years_left": (L("Years left", "剩余年限"), "yr"),
    "transport_tco2": (L("Transport CO2", "运输排放"), "tCO2/yr"),
    "process_tco2": (L("Process CO2", "工艺排放"), "tCO2/yr"),
    "electricity_tco2": (L("Electricity CO2", "用电排放"), "tCO2/yr"),
    "gross_tco2": (L("Gross CO2", "总排放"), "tCO2/yr"),
    "avoided_tco2": (L("Avoided CO2", "替代减排"), "tCO2/yr"),
    "net_tco2": (L("Net CO2", "净排放"), "tCO2/yr"),
    "cap_tco2": (L("CO2 cap", "排放上限"), "tCO2/yr"),
    "co2_tco2": (L("CO2 under the cap", "受限排放量"), "tCO2/yr"),
    "cny_per_tco2": (L("Cost of one tCO2 less", "每减排 1 吨成本"), "CNY/tCO2"),
})
UNITS.update({
    "tCO2/yr": L("tCO2/yr", "吨二氧化碳/年"),
    "tCO2": L("tCO2", "吨二氧化碳"),
    "CNY/tCO2": L("CNY/tCO2", "元/吨二氧化碳"),
    "tCO2/t": L("tCO2/t", "吨二氧化碳/吨"),
    "tCO2/(t·km)": L("tCO2/(t·km)", "吨二氧化碳/(吨·公里)"),
    "tCO2/MWh": L("tCO2/MWh", "吨二氧化碳/兆瓦时"),
    "kWh/t": L("kWh/t", "千瓦时/吨"),
})



# issue 15, markets, incentives and firms' duties: the plan's market, incentive and duty lines
# (text, report, workbook), the audit's checks, the cards' units, the tables' names
TEXT.update({
    "plan.markets": L("Product markets (t/yr of product; a market, not a capacity, may limit the projects):", "产品市场（吨/年产品；限制项目的可能是市场而非产能）："),
    "plan.market_tier": L("tier {k} of {n} at {price} CNY/t", "第 {k}/{n} 档，{price} 元/吨"),
    "plan.market_nothing": L("nothing sold", "无销售"),
    "plan.market_untiered": L("no price tiers (each project's own revenue)", "无价格档（按各项目自身收入）"),
    "plan.market_binds": L("full: {price} CNY/yr per t/yr of demand", "已饱和：需求每增加 1 吨/年值 {price} 元/年"),
    "plan.market_room": L("room left", "尚有余量"),
    "plan.market_no_limit": L("no limit", "不限"),
    "plan.incentives": L("Tax incentives (VAT refund, income-tax reduction): {total} CNY/yr (VAT refund {vat}, income tax {tax}); the same plan without them would cost {without} CNY/yr.", "税收优惠（增值税即征即退、所得税减计收入）：{total} 元/年（增值税退税 {vat}，所得税 {tax}）；同一方案若无优惠，年总成本为 {without} 元。"),
    "plan.incentives_off": L("Tax incentives: not counted (policy.apply_incentives is false); the projects' rates are in the data.", "税收优惠：未计入（policy.apply_incentives 为 false），各项目的优惠比例见数据。"),
    "plan.duties": L("Firms' duties (each firm's rate by its ledger: its own tonnes delivered to utilization, by itself or by others):", "企业主体责任目标（按企业台账口径：自有固废交付综合利用的吨数，自行利用 + 委托利用）："),
    "plan.duty_binds": L("binds: {price} CNY/yr per point", "起约束作用：每个百分点 {price} 元/年"),
    "plan.duty_met": L("met, does not bind", "已达到，不起约束作用"),
})
HEADERS.update({
    "market": (L("Market", "市场"), ""),
    "market_name": (L("Product", "产品"), ""),
    "limit_t": (L("Demand limit", "需求上限"), "t/yr"),
    "sold_t": (L("Sold", "销量"), "t/yr"),
    "tier_reached": (L("Price tier reached", "所达价格档"), ""),
    "price_reached_cny_per_t": (L("Price of the last tonne", "末吨价格"), "CNY/t"),
    "market_revenue_cny": (L("Market revenue", "市场收入"), "CNY/yr"),
    "market_state": (L("Demand", "需求"), ""),
    "incentive_item": (L("Catalogue item", "目录条目"), ""),
    "vat_refund_rate": (L("VAT refund rate", "增值税退税比例"), "fraction"),
    "vat_refund_cny": (L("VAT refund", "增值税退税"), "CNY/yr"),
    "income_tax_cny": (L("Income tax saved", "所得税减免"), "CNY/yr"),
    "incentive_cny": (L("Incentives", "税收优惠"), "CNY/yr"),
    "duty": (L("Duty", "责任目标"), "fraction"),
    "duty_reached": (L("Reached (ledger)", "达到（台账口径）"), "fraction"),
    "delivered_t": (L("Delivered to utilization", "交付综合利用"), "t/yr"),
    "duty_state": (L("Binds?", "是否约束"), ""),
})
VALUES["audit"].update({
    "market_demand": L("products sold within each market's demand", "产品销量不超市场需求"),
    "market_revenue": L("market revenue as the price tiers give it", "市场收入与价格档一致"),
    "incentives": L("tax incentives as the projects' rates give them", "税收优惠与各项目比例一致"),
    "firm_targets": L("firms' duties met", "企业主体责任目标达成"),
})
VALUES["table"].update({
    "markets": L("product markets", "产品市场"),
    "market_tiers": L("market price tiers", "市场价格档"),
})
SHADOW_UNITS.update({
    "market_demand": L("CNY/yr per t/yr of demand", "元/年（每吨/年需求）"),
    "firm_target": L("CNY/yr per percentage point of the duty", "元/年（责任目标每百分点）"),
})
