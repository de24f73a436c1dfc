/**
 * The page's own script (plain browser JavaScript, inlined after uPlot). It only enhances a page
 * that is complete without it: times shown in the browser's zone (UTC on hover), a live
 * countdown, and the charts drawn with uPlot from the JSON block. Everything from the cluster
 * reaches the document through textContent or the canvas, never as markup.
 */
export const CLIENT_JS = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var pad = function (n) { return (n < 10 ? '0' : '') + n; };
  function utc(d) {
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' + pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds()) + ' UTC';
  }
  var local = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
  var rel = typeof Intl.RelativeTimeFormat === 'function' ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null;
  function relative(ms) {
    var s = Math.round((ms - Date.now()) / 1000), a = Math.abs(s);
    if (!rel) return '';
    if (a < 60) return rel.format(s, 'second');
    if (a < 3600) return rel.format(Math.round(s / 60), 'minute');
    if (a < 86400) return rel.format(Math.round(s / 3600), 'hour');
    return rel.format(Math.round(s / 86400), 'day');
  }
  function times() {
    var els = document.querySelectorAll('time[datetime]');
    for (var i = 0; i < els.length; i++) {
      var el = els[i], d = new Date(el.getAttribute('datetime'));
      if (isNaN(d.getTime()) || el.hasAttribute('data-date')) continue;
      el.textContent = local.format(d);
      el.title = utc(d);
    }
    var rels = document.querySelectorAll('[data-relative]');
    for (var j = 0; j < rels.length; j++) rels[j].textContent = '(' + relative(Date.parse(rels[j].getAttribute('data-relative'))) + ')';
  }
  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  function axes(xValues) {
    var grid = { stroke: css('--grid'), width: 1 }, ticks = { stroke: css('--grid'), width: 1 };
    var x = { stroke: css('--fg'), grid: grid, ticks: ticks };
    if (xValues) { x.values = xValues.values; x.splits = xValues.splits; }
    return [x, { stroke: css('--fg'), grid: grid, ticks: ticks }];
  }
  function width(el) { return Math.max(280, el.clientWidth || 600); }
  var charts = [];
  function categorical(labels) {
    var every = Math.max(1, Math.ceil(labels.length / 14));
    return {
      splits: function () { var s = []; for (var i = 0; i < labels.length; i += every) s.push(i); return s; },
      values: function (u, splits) { return splits.map(function (i) { return labels[i] === undefined ? '' : labels[i]; }); },
    };
  }
  function dayChart() {
    var el = document.getElementById('chart-days');
    if (!el || !data.days.length) return;
    var keys = [['dry_run', 'dry run', '--dry'], ['pending', 'pending', '--pending'], ['timeout', 'timed out', '--timeout'], ['failed', 'failed', '--fail'], ['completed', 'completed', '--ok']];
    var idx = data.days.map(function (_, i) { return i; });
    var raw = keys.map(function (k) { return data.days.map(function (d) { return d[k[0]]; }); });
    // Stacked: each series is drawn over the taller one before it, so its top is the sum of the segments below.
    var stacked = keys.map(function (_, ki) { return data.days.map(function (d, di) { var t = 0; for (var j = ki; j < keys.length; j++) t += raw[j][di]; return t; }); });
    var bars = uPlot.paths.bars({ size: [0.7, 60] });
    var series = [{ label: 'day' }].concat(keys.map(function (k, ki) {
      return { label: k[1], fill: css(k[2]), stroke: css(k[2]), paths: bars, points: { show: false }, value: function (u, v, si, i) { return i === null || i === undefined ? '--' : raw[ki][i]; } };
    }));
    charts.push(new uPlot({
      width: width(el), height: 260, series: series, axes: axes(categorical(data.days.map(function (d) { return d.date.slice(5); }))),
      scales: { x: { time: false, range: [-0.5, data.days.length - 0.5] }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      legend: { live: true },
    }, [idx].concat(stacked), el));
  }
  function lineHook(lines) {
    return function (u) {
      var ctx = u.ctx;
      ctx.save();
      ctx.font = Math.round(11 * devicePixelRatio) + 'px sans-serif';
      ctx.textAlign = 'left';
      ctx.textBaseline = 'bottom';
      lines.forEach(function (l) {
        var y = u.valToPos(l.value, 'y', true);
        ctx.strokeStyle = css(l.color);
        ctx.fillStyle = css(l.color);
        ctx.setLineDash(l.dash ? [6 * devicePixelRatio, 4 * devicePixelRatio] : []);
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
        ctx.fillText(l.label + ' ' + l.value + ' %', u.bbox.left + 4 * devicePixelRatio, y - 4 * devicePixelRatio);
      });
      ctx.restore();
    };
  }
  function loadChart(id, what, threshold, cap) {
    var el = document.getElementById(id), nl = data.node_load;
    if (!el || !nl) return;
    var idx = nl.rows.map(function (_, i) { return i; });
    var before = nl.rows.map(function (r) { return r[what + '_before']; }), after = nl.rows.map(function (r) { return r[what + '_after']; });
    var mk = function (align, label, color) { return { label: label, fill: css(color), stroke: css(color), paths: uPlot.paths.bars({ size: [0.35, 40], align: align }), points: { show: false } }; };
    charts.push(new uPlot({
      width: width(el), height: 240, series: [{ label: 'node' }, mk(-1, 'before', '--before'), mk(1, 'after (planned)', '--after')],
      axes: axes(categorical(nl.rows.map(function (r) { return r.node; }))),
      scales: { x: { time: false, range: [-0.5, nl.rows.length - 0.5] }, y: { range: function (u, min, max) { return [0, Math.max(100, max)]; } } },
      hooks: { draw: [lineHook([{ value: threshold, label: 'hot threshold', color: '--timeout', dash: true }, { value: cap, label: 'target cap', color: '--fail', dash: false }])] },
    }, [idx, before, after], el));
  }
  function imbalanceChart() {
    var el = document.getElementById('chart-imbalance');
    if (!el || !data.imbalance.length) return;
    var xs = data.imbalance.map(function (p) { return Date.parse(p.at) / 1000; });
    var line = function (label, color, dash) { return { label: label, stroke: css(color), width: 2, dash: dash, spanGaps: true, points: { show: xs.length < 60 } }; };
    charts.push(new uPlot({
      width: width(el), height: 240, series: [{ label: 'time' }, line('before the plan', '--before'), line('after the plan', '--after', [5, 3])], axes: axes(null),
      scales: { y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
    }, [xs, data.imbalance.map(function (p) { return p.before; }), data.imbalance.map(function (p) { return p.after; })], el));
  }
  function draw() {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    dayChart();
    if (data.node_load) {
      loadChart('chart-cpu', 'cpu', data.node_load.cpu_threshold, data.node_load.cpu_cap);
      loadChart('chart-mem', 'mem', data.node_load.mem_threshold, data.node_load.mem_cap);
    }
    imbalanceChart();
  }
  document.documentElement.classList.add('js');
  times();
  setInterval(times, 30000);
  draw();
  var timer = null;
  window.addEventListener('resize', function () { clearTimeout(timer); timer = setTimeout(draw, 200); });
  if (window.matchMedia) window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', draw);
})();
`;
