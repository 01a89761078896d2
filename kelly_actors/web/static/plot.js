"use strict";
// Line plots on a <canvas>, drawn by hand: a few hundred points per plot need no library,
// and a phone on the stage's Wi-Fi loads a few kilobytes instead of a plotting bundle.
window.KellyPlot = (function () {
  function fit(canvas) {
    // Draw at the screen's pixel density so lines stay sharp on a tablet.
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(50, canvas.clientWidth);
    const height = Number(canvas.getAttribute("height")) || 110;
    if (canvas.width !== Math.round(width * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      canvas.style.height = height + "px";
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return { ctx, width, height };
  }

  // series: [{color, points: [[x, y], …], width}]; opts: {xmin, xmax, ymin, ymax, grid: [y…]}
  function draw(canvas, series, opts) {
    const { ctx, width, height } = fit(canvas);
    ctx.clearRect(0, 0, width, height);
    const pad = 4;
    let { xmin, xmax, ymin, ymax } = opts;
    if (xmin === undefined || xmax === undefined) {
      const xs = series.flatMap((s) => s.points.map((p) => p[0]));
      xmin = xs.length ? Math.min(...xs) : 0;
      xmax = xs.length ? Math.max(...xs) : 1;
    }
    if (ymin === undefined || ymax === undefined) {
      const ys = series.flatMap((s) => s.points.map((p) => p[1]));
      ymin = ys.length ? Math.min(...ys) : 0;
      ymax = ys.length ? Math.max(...ys) : 1;
      if (ymax === ymin) { ymax += 1; ymin -= 1; }
    }
    if (xmax === xmin) xmax = xmin + 1;
    const X = (x) => pad + ((x - xmin) / (xmax - xmin)) * (width - 2 * pad);
    const Y = (y) => height - pad - ((y - ymin) / (ymax - ymin)) * (height - 2 * pad);
    ctx.strokeStyle = "#30343c";
    ctx.lineWidth = 1;
    ctx.fillStyle = "#7d838c";
    ctx.font = "10px sans-serif";
    for (const g of opts.grid || []) {
      ctx.beginPath();
      ctx.moveTo(pad, Y(g));
      ctx.lineTo(width - pad, Y(g));
      ctx.stroke();
      ctx.fillText(String(g), pad + 2, Y(g) - 2);
    }
    for (const s of series) {
      if (!s.points.length) continue;
      ctx.strokeStyle = s.color;
      ctx.lineWidth = s.width || 1.5;
      ctx.beginPath();
      let pen = false;
      for (const [x, y] of s.points) {
        if (y === null || y === undefined) { pen = false; continue; }
        if (pen) ctx.lineTo(X(x), Y(y)); else ctx.moveTo(X(x), Y(y));
        pen = true;
      }
      ctx.stroke();
    }
    if (opts.label) {
      ctx.fillStyle = "#9aa0a6";
      ctx.fillText(opts.label, width - pad - ctx.measureText(opts.label).width, 12);
    }
  }

  return { draw };
})();
