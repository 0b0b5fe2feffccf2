// Dashboard charts. Loaded with `defer` after the vendored Chart.js, on dashboard pages only.
//
// Every <canvas data-chart="ID"> is drawn from the JSON text of the hidden element #ID (not a
// <script>, which htmx drops from swapped fragments), so no script is inline and the page keeps
// its strict CSP:
//   {"type": "bar"|"line", "labels": [...], "stacked": bool, "horizontal": bool,
//    "links": [url per label] (optional: a click drills down),
//    "empty_text": "No data" (optional, translated by the template),
//    "datasets": [{"label", "data": [...], "axis": "count"|"percent"|"money"|"seconds",
//                  "kind": "bar"|"line" (optional, to mix)}]}
// The table next to each chart carries the same figures and links, so the canvas is an image
// to assistive technology (role=img) and not focusable.
(function () {
  "use strict";

  const Chart = window.Chart;
  if (!Chart) return;

  const FALLBACK_PALETTE = ["#1f5fbf", "#c4550e", "#279a7b", "#8a13f4", "#c070b8", "#7d2361"];
  // Line series differ by dash and marker as well as colour, so no series relies on colour alone.
  const LINE_DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
  const POINT_STYLES = ["circle", "rectRot", "triangle", "rect"];
  const SECONDS_STEPS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
    14400, 21600, 43200, 86400];

  // The JSON each canvas was drawn from: a re-scan that finds the same data leaves it alone.
  const drawnFrom = new WeakMap();

  function cssVar(el, name, fallback) {
    const value = getComputedStyle(el).getPropertyValue(name).trim();
    return value || fallback;
  }

  function numberFormat(options) {
    const lang = document.documentElement.lang || undefined;
    try {
      return new Intl.NumberFormat(lang, options);
    } catch (e) {
      // An unknown language tag must not cost the page its charts.
      return new Intl.NumberFormat(undefined, options);
    }
  }

  function makeFormats() {
    const integer = numberFormat({ maximumFractionDigits: 0 });
    const decimal = numberFormat({ maximumFractionDigits: 2 });
    const percent = numberFormat({ style: "percent", maximumFractionDigits: 1 });
    const euroTick = numberFormat({ style: "currency", currency: "EUR",
      minimumFractionDigits: 0, maximumFractionDigits: 0 });
    const euro = numberFormat({ style: "currency", currency: "EUR" });
    const unit = (name) => numberFormat({ style: "unit", unit: name, unitDisplay: "short",
      maximumFractionDigits: 1 });
    const second = unit("second");
    const minute = unit("minute");
    const hour = unit("hour");
    const day = unit("day");

    // An axis tick: one unit for the whole axis (its largest tick decides), so ticks compare.
    function durationTick(seconds, largest) {
      if (seconds === 0) return integer.format(0);
      const magnitude = Math.abs(largest);
      if (magnitude >= 7200) return hour.format(seconds / 3600);
      if (magnitude >= 120) return minute.format(seconds / 60);
      return second.format(seconds);
    }

    // A single value, in whole units as the figures table writes it: "5 min", "2 h 5 min".
    function duration(seconds) {
      const minutes = Math.round(seconds / 60);
      if (Math.abs(seconds) < 60) return second.format(Math.round(seconds));
      if (minutes < 60) return minute.format(minutes);
      const hours = Math.floor(minutes / 60);
      if (hours < 48) return hour.format(hours) + " " + minute.format(minutes % 60);
      return day.format(Math.floor(hours / 24)) + " " + hour.format(hours % 24);
    }

    return {
      count: { tick: (v) => integer.format(v), value: (v) => decimal.format(v) },
      percent: { tick: (v) => percent.format(v / 100), value: (v) => percent.format(v / 100) },
      money: { tick: (v) => euroTick.format(v), value: (v) => euro.format(v) },
      seconds: {
        tick: (v, ticks) => durationTick(v, ticks.length ? ticks[ticks.length - 1].value : v),
        value: (v) => duration(v),
      },
    };
  }

  function axisKind(dataset) {
    return ["count", "percent", "money", "seconds"].includes(dataset.axis) ? dataset.axis : "count";
  }

  function toNumbers(data) {
    // Decimals arrive as strings from DjangoJSONEncoder; missing values stay gaps.
    return (Array.isArray(data) ? data : []).map((v) =>
      v === null || v === undefined || v === "" ? null : Number(v));
  }

  function isEmpty(spec) {
    return !spec.labels.length ||
      spec.datasets.every((ds) => ds.data.every((v) => v === null || Number.isNaN(v)));
  }

  function secondsStep(datasets) {
    const max = Math.max(0, ...datasets.flatMap((ds) => ds.data.filter(Number.isFinite).map(Math.abs)));
    if (!max) return undefined;
    return SECONDS_STEPS.find((step) => max / step <= 8) || 86400;
  }

  // Writes the "no data" text over the empty axes.
  const noDataPlugin = {
    id: "deskNoData",
    afterDraw(chart, args, options) {
      if (!options.empty || !chart.chartArea) return;
      const { ctx, chartArea } = chart;
      ctx.save();
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillStyle = options.color;
      ctx.font = "14px " + Chart.defaults.font.family;
      ctx.fillText(options.text, (chartArea.left + chartArea.right) / 2,
        (chartArea.top + chartArea.bottom) / 2);
      ctx.restore();
    },
  };

  function readSpec(canvas) {
    const id = canvas.dataset.chart;
    const element = id ? document.getElementById(id) : null;
    if (!element) return null;
    const text = element.textContent;
    let raw;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      console.warn("dashboard: chart data #" + id + " is not JSON");
      return null;
    }
    if (!raw || typeof raw !== "object") return null;
    return {
      text,
      type: raw.type === "line" ? "line" : "bar",
      labels: Array.isArray(raw.labels) ? raw.labels.map(String) : [],
      datasets: (Array.isArray(raw.datasets) ? raw.datasets : []).map((ds) => ({
        label: String(ds.label ?? ""),
        data: toNumbers(ds.data),
        axis: axisKind(ds),
        kind: ds.kind === "line" || ds.kind === "bar" ? ds.kind : null,
      })),
      stacked: Boolean(raw.stacked),
      horizontal: Boolean(raw.horizontal),
      links: Array.isArray(raw.links) ? raw.links : [],
      emptyText: typeof raw.empty_text === "string" && raw.empty_text ? raw.empty_text : "No data",
    };
  }

  // Only same-origin links are followed: the drill-down stays inside the desk.
  function safeUrl(link) {
    if (typeof link !== "string" || !link) return null;
    try {
      const url = new URL(link, document.baseURI);
      return url.origin === window.location.origin ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function buildConfig(canvas, spec) {
    const colours = FALLBACK_PALETTE.map((fallback, i) => cssVar(canvas, "--chart-" + (i + 1), fallback));
    const grid = cssVar(canvas, "--chart-grid", "#e3e7ee");
    const text = cssVar(canvas, "--chart-text", "#5b6475");
    const surface = cssVar(canvas, "--chart-surface", "#fff");
    const formats = makeFormats();
    const indexAxis = spec.horizontal ? "y" : "x";
    const valueAxis = spec.horizontal ? "x" : "y";
    const empty = isEmpty(spec);

    const kinds = [...new Set(spec.datasets.map((ds) => ds.axis))];
    const onlyPercent = kinds.length === 1 && kinds[0] === "percent";
    const barAxes = new Set();
    let lineCount = 0;

    const datasets = spec.datasets.map((ds, i) => {
      const kind = ds.kind || spec.type;
      const colour = colours[i % colours.length];
      const common = {
        label: ds.label,
        data: ds.data,
        type: kind,
        [valueAxis + "AxisID"]: ds.axis,
        [indexAxis + "AxisID"]: indexAxis,
        backgroundColor: colour,
        borderColor: colour,
      };
      if (kind === "bar") {
        barAxes.add(ds.axis);
        return Object.assign(common, {
          // Lines are drawn over bars (a lower order is drawn later).
          order: 2,
          pointStyle: "rect",
          // A hairline in the card colour separates the segments of a stacked bar.
          borderColor: spec.stacked ? surface : colour,
          borderWidth: spec.stacked ? 1 : 0,
          maxBarThickness: 48,
        });
      }
      const n = lineCount++;
      return Object.assign(common, {
        order: 1,
        fill: false,
        tension: 0,
        borderWidth: 2,
        borderDash: LINE_DASHES[n % LINE_DASHES.length],
        pointStyle: POINT_STYLES[n % POINT_STYLES.length],
        pointRadius: 3,
        pointHoverRadius: 5,
        spanGaps: false,
      });
    });

    const scales = {
      [indexAxis]: {
        type: "category",
        stacked: spec.stacked,
        grid: { display: false },
        border: { color: grid },
        ticks: { color: text, autoSkip: !spec.horizontal },
      },
    };
    kinds.forEach((kind) => {
      const secondary = kind === "percent" && !onlyPercent;
      const scale = {
        type: "linear",
        axis: valueAxis,
        position: spec.horizontal ? (secondary ? "top" : "bottom") : (secondary ? "right" : "left"),
        beginAtZero: true,
        stacked: spec.stacked && barAxes.has(kind),
        // A second value axis would draw a second, misaligned grid.
        grid: { color: grid, drawOnChartArea: !secondary },
        border: { color: grid },
        ticks: {
          color: text,
          callback: (value, index, ticks) => formats[kind].tick(value, ticks),
        },
      };
      if (kind === "count") scale.ticks.precision = 0;
      if (kind === "percent") {
        scale.min = 0;
        scale.max = 100;
        scale.ticks.stepSize = 20;
      }
      if (kind === "seconds") {
        scale.ticks.stepSize = secondsStep(spec.datasets.filter((ds) => ds.axis === "seconds"));
      }
      scales[kind] = scale;
    });

    const links = spec.labels.map((label, i) => safeUrl(spec.links[i]));
    const linked = links.some(Boolean);
    const interaction = { mode: "index", intersect: false, axis: indexAxis };
    const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

    // The whole column of a label is its click target, not only the bar or point itself.
    function linkAt(event, chart) {
      const hits = chart.getElementsAtEventForMode(event, "index", interaction, false);
      return hits.length ? links[hits[0].index] : null;
    }

    return {
      type: spec.type,
      data: { labels: spec.labels, datasets },
      plugins: [noDataPlugin],
      options: {
        indexAxis,
        responsive: true,
        maintainAspectRatio: false,
        animation: reducedMotion ? false : { duration: 400 },
        interaction,
        scales,
        onClick(event, elements, chart) {
          if (!linked) return;
          const url = linkAt(event, chart);
          if (!url) return;
          const native = event.native || {};
          if (native.ctrlKey || native.metaKey) {
            window.open(url, "_blank", "noopener");
          } else {
            window.location.assign(url);
          }
        },
        onHover(event, elements, chart) {
          if (!linked) return;
          // A class, not an inline style: the stylesheet sets the pointer.
          chart.canvas.classList.toggle("is-linked", Boolean(linkAt(event, chart)));
        },
        plugins: {
          deskNoData: { empty, text: spec.emptyText, color: text },
          legend: {
            display: datasets.length > 1,
            position: "bottom",
            labels: {
              color: text,
              usePointStyle: true,
              pointStyleWidth: 26,
              // A line series shows its dash in the legend, a bar series a block.
              generateLabels(chart) {
                const items = Chart.defaults.plugins.legend.labels.generateLabels(chart);
                items.forEach((item) => {
                  const ds = chart.data.datasets[item.datasetIndex];
                  if (ds && ds.type === "line") {
                    item.pointStyle = "line";
                    item.lineDash = ds.borderDash;
                    item.lineWidth = 2;
                  } else {
                    item.pointStyle = "rect";
                  }
                });
                return items;
              },
            },
          },
          tooltip: {
            enabled: !empty,
            callbacks: {
              label(context) {
                const ds = spec.datasets[context.datasetIndex];
                const value = context.parsed[valueAxis];
                if (value === null || value === undefined || Number.isNaN(value)) return null;
                return (ds.label ? ds.label + ": " : "") + formats[ds.axis].value(value);
              },
            },
          },
        },
      },
    };
  }

  function sizeFigure(canvas, spec) {
    // Horizontal bars need height per label; the stylesheet owns the sizes.
    if (!spec.horizontal) return;
    const figure = canvas.closest("figure.chart");
    if (!figure || figure.classList.contains("chart--tall") || figure.classList.contains("chart--taller")) return;
    if (spec.labels.length > 14) figure.classList.add("chart--taller");
    else if (spec.labels.length > 7) figure.classList.add("chart--tall");
  }

  function draw(canvas) {
    const spec = readSpec(canvas);
    const existing = Chart.getChart(canvas);
    if (!spec) {
      // A chart already drawn keeps its picture; a new canvas without data is a template bug.
      if (!existing) console.warn("dashboard: no chart data #" + canvas.dataset.chart);
      return;
    }
    if (existing && drawnFrom.get(canvas) === spec.text) return;
    if (existing) existing.destroy();
    sizeFigure(canvas, spec);
    new Chart(canvas, buildConfig(canvas, spec));
    drawnFrom.set(canvas, spec.text);
  }

  // A swap can remove a canvas; its chart would keep a resize observer and the instance alive.
  function releaseDetached() {
    Object.values(Chart.instances).forEach((chart) => {
      if (!chart.canvas || !chart.canvas.isConnected) chart.destroy();
    });
  }

  function drawAll(root) {
    const scope = root && root.isConnected && root.querySelectorAll ? root : document;
    const canvases = Array.from(scope.querySelectorAll("canvas[data-chart]"));
    if (scope.matches && scope.matches("canvas[data-chart]")) canvases.push(scope);
    canvases.forEach(draw);
  }

  function setDefaults() {
    const body = document.body || document.documentElement;
    Chart.defaults.font.family = getComputedStyle(body).fontFamily;
    Chart.defaults.font.size = 13;
    Chart.defaults.color = cssVar(body, "--chart-text", "#5b6475");
  }

  function start() {
    setDefaults();
    drawAll(document);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }

  // Period and filter changes swap a fragment: redraw what came in, release what went out.
  document.addEventListener("htmx:afterSettle", (event) => {
    releaseDetached();
    drawAll(event.target);
  });
})();
