// The class's pages (join, student, projector): long-polled JSON from playserver.py.
"use strict";
const P = { lang: document.documentElement.lang || "zh", T: null, offset: 0, state: null };
const RING_COLOUR = ["#c62828", "#ef8f00", "#7a8ca3"]; // family, insider, outsider

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
function t(key, fmt = {}) {
  const table = P.T[P.lang] || P.T.en;
  const s = table[key] ?? P.T.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, n) => (fmt[n] ?? ""));
}
async function loadText() {
  P.T = await (await fetch("/text.json")).json();
  document.querySelectorAll("[data-t]").forEach((e) => (e.textContent = t(e.dataset.t)));
}
function switchLang(render) {
  P.lang = P.lang === "zh" ? "en" : "zh";
  document.documentElement.lang = P.lang;
  document.querySelectorAll("[data-t]").forEach((e) => (e.textContent = t(e.dataset.t)));
  if (P.state) render(P.state);
}
async function post(url, body) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  return [r.status, await r.json()];
}
// Long poll: each answer comes when the state changed (or after the server's timeout).
async function poll(url, render, fail) {
  let since = -1;
  for (;;) {
    try {
      const r = await fetch(`${url}?since=${since}`);
      const s = await r.json();
      if (!r.ok) {
        fail(s.error);
        await sleep(3000);
        continue;
      }
      since = s.version;
      show(s, render);
    } catch (e) {
      await sleep(1000); // a dropped connection: try again, same link, same salesperson
    }
  }
}
function show(s, render) {
  P.offset = s.now - Date.now() / 1000;
  P.state = s;
  render(s);
  document.body.dataset.round = s.round;
  document.body.dataset.shownAt = Date.now();
}
function clock(s) {
  if (s.paused) return t("paused");
  if (!s.ends_at) return "";
  const left = Math.max(0, Math.round(s.ends_at - (Date.now() / 1000 + P.offset)));
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
}
function tickClock(id) {
  setInterval(() => {
    if (P.state) $(id).textContent = clock(P.state);
  }, 500);
}
const fmt = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? "–" : Number(x).toFixed(d));

// Rings: family inside, insiders around, outsiders outside; one dot per customer.
// dots: [[ring, faded], ...]
function ringsSvg(dots, size) {
  const c = size / 2, band = (size / 2 - 4) / 3;
  let out = `<svg width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" role="img">`;
  for (let k = 2; k >= 0; k--) {
    out += `<circle cx="${c}" cy="${c}" r="${band * (k + 1)}" fill="${k % 2 ? "#f4f6fa" : "#fff"}" stroke="#ccd"/>`;
  }
  const seen = [0, 0, 0];
  dots.forEach(([ring, faded]) => {
    const i = seen[ring]++;
    const a = i * 2.39996, r = band * (ring + 0.25 + 0.5 * ((i * 0.618) % 1));
    out += `<circle cx="${(c + r * Math.cos(a)).toFixed(1)}" cy="${(c + r * Math.sin(a)).toFixed(1)}" r="${size > 200 ? 3.2 : 3}" fill="${RING_COLOUR[ring]}" opacity="${faded ? 0.25 : 0.95}"/>`;
  });
  return out + `<circle cx="${c}" cy="${c}" r="5" fill="#222"/></svg>`;
}
function legend() {
  return ["family", "insider", "outsider"]
    .map((k, i) => `<span class="sw" style="background:${RING_COLOUR[i]}"></span>${esc(t(k))}`)
    .join(" ");
}
function eventLine(e, mine) {
  const who = mine ? "" : `${esc(e.name)}: `;
  if (e.kind === "breach") {
    let s = t("ev_breach", { c: e.customer });
    if (e.warned) s += t("ev_warned", { family: e.family, ties: e.ties });
    if (e.left) s += t("ev_left");
    return who + s;
  }
  return who + t(`ev_${e.kind}`, { c: e.customer });
}
function debriefHtml(d) {
  if (!d || !d.rounds) return `<p>${esc(t("no_rounds"))}</p>`;
  const most = Math.max(1, ...d.groups.map((g) => Math.max(g.early || 0, g.late || 0)));
  const bar = (v, cls) => `<span class="hbar ${cls}" style="width:${(100 * (v || 0)) / most}%"></span>`;
  let h = `<p class="small">${esc(t("debrief_note", { half: d.half, rounds: d.rounds }))}</p><table class="deb"><tr><th>${esc(t("group"))}</th><th>n</th><th>${esc(t("sales_early_late"))}</th><th>${esc(t("insiders"))}</th><th>${esc(t("trust"))}</th></tr>`;
  d.groups.forEach((g) => {
    const name = t(g.style) + (g.oversold ? ` + ${t("oversold")}` : "");
    h += `<tr><td>${esc(name)}</td><td>${g.n}</td><td class="bars">${bar(g.early, "early")}${fmt(g.early, 1)}<br>${bar(g.late, "late")}${fmt(g.late, 1)}</td><td>${fmt(g.insiders, 1)}</td><td>${fmt(g.trust)}</td></tr>`;
  });
  h += `</table>`;
  if (d.faded.length) {
    h += `<p class="small"><b>${esc(t("faded"))}</b> ` + d.faded.map((f) => `${esc(f.name)} (${f.early}→${f.late})`).join(", ") + `</p>`;
  }
  return h + `<p class="small">${esc(t("debrief_ask"))}</p>`;
}
