// Complaint analysis charts (service/analysis.html). The figures come from the page's JSON block #analysis-data
// (Django's json_script): no inline script, as the Content-Security-Policy wants. Each <div data-chart="NAME"> gets
// the chart NAME below; without ECharts (not loaded) the tables under the charts still show every figure.
(function () {
  "use strict";
  const source = document.getElementById("analysis-data");
  if (!source || typeof echarts === "undefined") return;
  const data = JSON.parse(source.textContent);
  const words = data.labels || {};
  const labels = (rows) => rows.map((row) => row.label);

  const bars = (rows, horizontal) => {
    const category = { type: "category", data: labels(rows), axisLabel: { interval: 0, hideOverlap: true } };
    const value = { type: "value", minInterval: 1 };
    return {
      tooltip: { trigger: "axis" },
      grid: { left: horizontal ? 110 : 40, right: 20, top: 20, bottom: 40 },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? { ...category, inverse: true } : value,
      series: [{ type: "bar", name: words.tickets, data: rows.map((row) => row.count) }],
    };
  };
  const pie = (rows) => ({
    tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
    series: [{ type: "pie", radius: ["35%", "70%"], data: rows.map((row) => ({ name: row.label, value: row.count })) }],
  });
  const sla = (rows) => ({
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 40, right: 40, top: 40, bottom: 40 },
    xAxis: { type: "category", data: labels(rows) },
    yAxis: [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }],
    series: [
      { type: "bar", stack: "response", name: words.response_met, data: rows.map((r) => r.response_met) },
      { type: "bar", stack: "response", name: words.response_breached, data: rows.map((r) => r.response_breached) },
      { type: "bar", stack: "resolution", name: words.resolution_met, data: rows.map((r) => r.resolution_met) },
      { type: "bar", stack: "resolution", name: words.resolution_breached, data: rows.map((r) => r.resolution_breached) },
      { type: "line", yAxisIndex: 1, name: words.response_rate, data: rows.map((r) => r.response_rate) },
      { type: "line", yAxisIndex: 1, name: words.resolution_rate, data: rows.map((r) => r.resolution_rate) },
    ],
  });
  const repeats = (rows) => ({
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 40, right: 20, top: 40, bottom: 40 },
    xAxis: { type: "category", data: labels(rows) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { type: "bar", name: words.complaints, data: rows.map((r) => r.complaints) },
      { type: "bar", name: words.repeats, data: rows.map((r) => r.repeats) },
    ],
  });
  const satisfaction = (rows) => ({
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 40, right: 40, top: 40, bottom: 40 },
    xAxis: { type: "category", data: labels(rows) },
    yAxis: [{ type: "value", min: 1, max: 5 }, { type: "value", minInterval: 1 }],
    series: [
      { type: "line", name: words.satisfaction, data: rows.map((r) => r.satisfaction) },
      { type: "bar", yAxisIndex: 1, name: words.visits, data: rows.map((r) => r.visits) },
    ],
  });

  const charts = {
    by_type: () => pie(data.by_type),
    by_cause: () => bars(data.by_cause, true),
    by_channel: () => pie(data.by_channel),
    by_priority: () => pie(data.by_priority || []),
    by_grade: () => pie(data.by_grade || []),
    reopens_by_month: () => bars(data.reopens_by_month || [], false),
    by_team: () => bars(data.by_team, true),
    by_month: () => bars(data.by_month, false),
    sla_by_month: () => sla(data.sla_by_month),
    sla_by_team: () => sla(data.sla_by_team),
    repeats_by_month: () => repeats(data.repeats.by_month),
    satisfaction: () => satisfaction(data.satisfaction_by_month || []),
  };
  const drawn = [];
  document.querySelectorAll("[data-chart]").forEach((element) => {
    const build = charts[element.dataset.chart];
    if (!build) return;
    const chart = echarts.init(element);
    chart.setOption(build());
    drawn.push(chart);
  });
  window.addEventListener("resize", () => drawn.forEach((chart) => chart.resize()));
})();
