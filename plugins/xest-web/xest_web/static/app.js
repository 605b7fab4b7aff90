// xest web: live pages over server-sent events. Plain JavaScript, no build step, nothing
// fetched from elsewhere. Text is always set with textContent (never innerHTML).
"use strict";

const boot = JSON.parse(document.getElementById("boot").textContent);
const page = document.body.dataset.page;
let state = null; // the latest state of this page's view
let hubSkew = 0; // the hub's clock minus performance.now(), in seconds
let source = null;

// -- time: the hub's clock, extrapolated; an exchange's clock = the hub's + its offset --------

function setHubTime(now) {
  hubSkew = now - performance.now() / 1000;
}
function hubNow() {
  return performance.now() / 1000 + hubSkew;
}
function pad(n, w = 2) {
  return String(n).padStart(w, "0");
}
function clockText(seconds) {
  const d = new Date(seconds * 1000);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${Math.floor(d.getUTCMilliseconds() / 100)} UTC`;
}
function ageText(at) {
  if (at === null || at === undefined) return "never";
  const s = Math.max(0, hubNow() - at);
  if (s < 60) return `${s.toFixed(0)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}
function fmtSeconds(s) {
  return s === null || s === undefined ? "unknown" : `${(s * 1000).toFixed(s < 1 ? 1 : 0)} ms`;
}

// -- DOM helpers ---------------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "onclick") node.addEventListener("click", v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
function fill(tbody, rows, empty, columns) {
  tbody.replaceChildren();
  if (!rows.length) {
    tbody.append(el("tr", {}, el("td", { colspan: columns, class: "muted" }, empty)));
    return;
  }
  for (const r of rows) tbody.append(r);
}
function $(sel) {
  return document.querySelector(sel);
}
function show(msgEl, text, ok = false) {
  msgEl.textContent = text || "";
  msgEl.className = "msg" + (text ? (ok ? " ok" : " error") : "");
}

// -- the account picker ("select a user") -----------------------------------------------------

const params = new URLSearchParams(location.search);
function currentAccount() {
  const picker = $("#account");
  return picker ? picker.value : params.get("account") || localStorage.getItem("xest-account");
}
function accountExchange() {
  const key = currentAccount() || "";
  return key.split(":")[0];
}
function initAccountPicker(onChange) {
  const picker = $("#account");
  if (!picker) return;
  const wanted = params.get("account") || localStorage.getItem("xest-account");
  if (wanted && boot.accounts.some((a) => a.key === wanted)) picker.value = wanted;
  picker.addEventListener("change", () => {
    localStorage.setItem("xest-account", picker.value);
    params.set("account", picker.value);
    history.replaceState(null, "", `${location.pathname}?${params}`);
    updateNav();
    onChange();
  });
  localStorage.setItem("xest-account", picker.value);
}
function updateNav() {
  const account = currentAccount();
  for (const a of document.querySelectorAll("a[data-nav]")) {
    a.href = `/${a.dataset.nav}` + (account ? `?account=${encodeURIComponent(account)}` : "");
  }
}
function fillSymbols(exchange) {
  const list = $("#symbols");
  if (!list) return;
  const ex = boot.exchanges.find((e) => e.name === exchange);
  list.replaceChildren(...(ex ? ex.symbols : []).map((s) => el("option", { value: s })));
  for (const input of document.querySelectorAll("input[name=symbol]")) {
    if (ex && ex.default_symbol && !ex.symbols.includes(input.value)) input.value = ex.default_symbol;
  }
}

// -- the event stream --------------------------------------------------------------------------

function connect(query, render) {
  if (source) source.close();
  state = null;
  const conn = $("#conn");
  source = new EventSource(`/events?${new URLSearchParams(query)}`);
  source.addEventListener("state", (ev) => {
    const msg = JSON.parse(ev.data);
    setHubTime(msg.now);
    state = msg.data;
    conn.textContent = "live";
    conn.className = "conn live";
    render(state);
    tick();
  });
  source.onerror = () => {
    conn.textContent = "reconnecting…";
    conn.className = "conn down";
  };
}

async function post(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  let data;
  try {
    data = await r.json();
  } catch (e) {
    data = { error: `unexpected answer (HTTP ${r.status})` };
  }
  if (!r.ok) {
    const err = new Error(data.error || `HTTP ${r.status}`);
    err.field = data.field;
    throw err;
  }
  return data;
}

function formData(form) {
  return Object.fromEntries(new FormData(form).entries());
}

// -- ticking: clocks, countdowns and ages move between messages -------------------------------

function tick() {
  for (const node of document.querySelectorAll("[data-clock-offset]")) {
    node.textContent = clockText(hubNow() + Number(node.dataset.clockOffset));
  }
  for (const node of document.querySelectorAll("[data-age]")) {
    node.textContent = ageText(node.dataset.age === "" ? null : Number(node.dataset.age));
  }
  for (const node of document.querySelectorAll("[data-expires]")) {
    const left = Number(node.dataset.expires) - (hubNow() + Number(node.dataset.offset));
    const card = node.closest(".quote");
    if (left > 0) {
      node.textContent = `${left.toFixed(1)} s left (server clock)`;
    } else {
      node.textContent = "expired (server clock)";
      if (card) {
        card.classList.add("expired");
        const btn = card.querySelector("button.accept");
        if (btn) btn.remove();
      }
    }
  }
}
setInterval(tick, 100);

function age(at) {
  return el("span", { class: "age", dataset: { age: at === null || at === undefined ? "" : at } });
}

// -- pages -------------------------------------------------------------------------------------

function renderExchanges(s) {
  const box = $("#exchanges");
  box.replaceChildren();
  const problems = $("#problems");
  problems.replaceChildren(...s.problems.map((p) => el("p", { class: "notice" }, p)));
  for (const x of s.exchanges) {
    const history = el("ul", { class: "history" });
    for (const h of x.history) {
      history.append(el("li", {}, el("span", { class: "when" }, clockText(h.at)), ` ${h.old} → ${h.new}`));
    }
    if (!x.history.length) history.append(el("li", { class: "muted" }, "no change seen yet"));
    const clock = x.clock;
    box.append(
      el(
        "article",
        { class: `card exchange status-${x.status}`, dataset: { exchange: x.name } },
        el("h2", {}, x.name, x.simulated ? el("span", { class: "badge" }, "simulator") : null),
        el("p", { class: "status" }, el("span", { class: "dot" }), el("span", { class: "status-text" }, x.status),
          x.message ? ` — ${x.message}` : "", x.stale ? el("span", { class: "warn" }, ` (stale: ${x.missed} polls missed)`) : null),
        el("dl", {},
          el("dt", {}, "server clock"),
          el("dd", {}, el("span", { class: "clock", dataset: { clockOffset: clock.offset } }, "…")),
          el("dt", {}, "offset"),
          el("dd", { class: "offset" }, `${fmtSeconds(clock.offset)} ± ${fmtSeconds(clock.error)}`),
          el("dt", {}, "last heard"),
          el("dd", {}, age(x.checked)),
          el("dt", {}, "since"),
          el("dd", {}, x.since ? clockText(x.since) : "—"),
          el("dt", {}, "accounts"),
          el("dd", {}, x.accounts.join(", ") || "none"),
          x.last_error ? el("dt", {}, "last error") : null,
          x.last_error ? el("dd", { class: "error" }, x.last_error) : null),
        el("h3", {}, "status history"),
        history,
      ),
    );
  }
}

function orderRow(o, withCancel) {
  const cells = [
    el("td", { class: "id" }, o.id),
    el("td", {}, o.symbol),
    el("td", {}, o.side),
    el("td", {}, o.type),
    el("td", { class: "n" }, o.amount),
    el("td", { class: "n" }, o.filled),
    el("td", { class: "n" }, o.price ?? o.average_price ?? "market"),
    el("td", { class: `status st-${o.status}` }, o.status + (o.lost ? " (lost)" : "")),
  ];
  if (withCancel) cells.push(el("td", { class: "path" }, o.path.join(" → ")));
  cells.push(el("td", {}, age(o.created)));
  if (withCancel) {
    cells.push(
      el("td", {}, o.final ? "" : el("button", { type: "button", class: "cancel small", onclick: () => cancelOrder(o.id) }, "Cancel")),
    );
  }
  return el("tr", { dataset: { order: o.id, status: o.status } }, ...cells);
}

function renderAccount(s) {
  fill($("#balances tbody"),
    s.balances.map((b) => el("tr", { dataset: { asset: b.asset } }, el("td", {}, b.asset), el("td", { class: "n free" }, b.free),
      el("td", { class: "n locked" }, b.locked), el("td", { class: "n total" }, b.total))),
    s.balances_known ? "no balance" : "waiting for the first poll…", 4);
  const bAge = $("#balances-age");
  bAge.replaceChildren(age(s.balances_at), s.balances_stale ? el("span", { class: "warn" }, " stale") : "");
  fill($("#open-orders tbody"), s.open_orders.map((o) => orderRow(o, false)), "no open order", 9);
  fill($("#fills tbody"),
    s.fills.map((f) => el("tr", {}, el("td", {}, clockText(f.at)), el("td", {}, f.symbol), el("td", {}, f.side),
      el("td", { class: "n" }, f.amount), el("td", { class: "n" }, f.price), el("td", { class: "n" }, f.fee ? `${f.fee} ${f.fee_asset || ""}` : ""),
      el("td", { class: "id" }, f.order_id), el("td", {}, age(f.at)))),
    s.fills_supported ? "no fill yet" : "this exchange does not report fills", 8);
  $("#fills-age").replaceChildren(s.fills_supported ? age(s.fills_at) : "");
}

function renderQuotes(s) {
  const box = $("#quotes");
  box.replaceChildren();
  if (!s.quotes.length) box.append(el("p", { class: "muted" }, "no quote yet: ask for one above"));
  for (const q of s.quotes) {
    const open = q.state === "open";
    const msg = el("p", { class: "msg" });
    const card = el(
      "article",
      { class: `card quote state-${q.state}`, dataset: { quote: q.id, state: q.state } },
      el("h3", {}, `${q.side} ${q.amount} ${q.symbol}`),
      el("p", {}, "price ", el("strong", { class: "price" }, q.price), " · cost ", el("span", { class: "cost" }, q.cost)),
      el("p", { class: "state" }, "state: ", el("strong", { class: "state-text" }, q.state)),
      open ? el("p", { class: "countdown", dataset: { expires: q.expires_at, offset: s.clock.offset } }, "…") : null,
      q.order ? el("p", { class: "order" }, "order ", el("span", { class: "id" }, q.order.id), " ", el("span", { class: `status st-${q.order.status}` }, q.order.status)) : null,
      q.error ? el("p", { class: "error" }, q.error) : null,
      el("p", { class: "id muted" }, `quote ${q.id}`),
      open ? el("button", { type: "button", class: "accept", onclick: () => acceptQuote(q.id, msg) }, "Accept") : null,
      msg,
    );
    box.append(card);
  }
}

async function acceptQuote(id, msgEl) {
  const btn = document.querySelector(`[data-quote="${CSS.escape(id)}"] button.accept`);
  if (btn) btn.disabled = true;
  try {
    const r = await post("/api/accept", { account: currentAccount(), quote: id });
    show($("#quote-msg"), r.message, true);
  } catch (e) {
    show(msgEl, e.message);
    show($("#quote-msg"), e.message);
    if (btn) btn.disabled = false;
  }
}

function renderOrders(s) {
  fill($("#orders tbody"), s.orders.map((o) => orderRow(o, true)), "no order yet", 11);
}

async function cancelOrder(id) {
  try {
    const r = await post("/api/cancel", { account: currentAccount(), order: id });
    show($("#order-msg"), r.message, true);
  } catch (e) {
    show($("#order-msg"), e.message);
  }
}

function renderMarket(s) {
  const t = s.ticker;
  fill($("#ticker tbody"), t ? [el("tr", {}, ...["bid", "ask", "last", "high", "low", "volume"].map((k) => el("td", { class: `n ${k}` }, t[k] ?? "—")))] : [], "waiting for the first poll…", 6);
  const b = s.book || { bids: [], asks: [] };
  fill($("#bids tbody"), b.bids.map(([p, a]) => el("tr", {}, el("td", { class: "n" }, p), el("td", { class: "n" }, a))), "—", 2);
  fill($("#asks tbody"), b.asks.map(([p, a]) => el("tr", {}, el("td", { class: "n" }, p), el("td", { class: "n" }, a))), "—", 2);
  $("#market-title").firstChild.textContent = `${s.exchange} ${s.symbol} ${s.source ? `(${s.source}) ` : ""}`;
  $("#market-age").replaceChildren(age(s.at));
}

// -- wiring ------------------------------------------------------------------------------------

function accountPage(view, render) {
  const start = () => {
    fillSymbols(accountExchange());
    if (currentAccount()) connect({ view, account: currentAccount() }, render);
  };
  initAccountPicker(start);
  updateNav();
  start();
}

function setupQuoteForm() {
  const form = $("#quote-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const msg = $("#quote-msg");
    show(msg, "asking…", true);
    try {
      const r = await post("/api/quote", { ...formData(form), account: currentAccount() });
      show(msg, r.message, true);
    } catch (e) {
      show(msg, e.message);
    }
  });
}

function setupOrderForm() {
  const form = $("#order-form");
  const confirmBox = $("#confirm");
  const priceLabel = form.querySelector("label.price");
  const typeSel = form.querySelector("select[name=type]");
  const syncType = () => { priceLabel.hidden = typeSel.value === "market"; };
  typeSel.addEventListener("change", syncType);
  syncType();
  let draft = null;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const msg = $("#order-msg");
    const data = { ...formData(form), account: currentAccount() };
    if (data.type === "market") delete data.price;
    try {
      const r = await post("/api/prepare", data);
      draft = r.draft;
      const o = r.order;
      $("#confirm-text").textContent = `${o.side} ${o.amount} ${o.symbol} ${o.type === "limit" ? `at ${o.price} (value ${o.cost})` : "at market"} on ${o.account}`;
      $("#confirm-rounded").textContent = r.rounded.length ? `rounded to the market's steps: ${r.rounded.join(", ")}` : "no rounding needed";
      confirmBox.hidden = false;
      show(msg, r.message, true);
    } catch (e) {
      confirmBox.hidden = true;
      show(msg, e.message);
    }
  });
  $("#confirm-back").addEventListener("click", () => { confirmBox.hidden = true; draft = null; });
  $("#confirm-send").addEventListener("click", async () => {
    const msg = $("#order-msg");
    confirmBox.hidden = true;
    try {
      const r = await post("/api/confirm", { draft });
      show(msg, r.message, true);
    } catch (e) {
      show(msg, e.message);
    }
    draft = null;
  });
}

function setupMarket() {
  const form = $("#market-form");
  const exSel = $("#market-exchange");
  const symbol = $("#market-symbol");
  const wanted = params.get("exchange") || (currentAccount() || "").split(":")[0];
  if (wanted && boot.exchanges.some((e) => e.name === wanted)) exSel.value = wanted;
  const start = () => {
    const ex = boot.exchanges.find((e) => e.name === exSel.value);
    const sym = symbol.value.trim().toUpperCase();
    if (!ex || !ex.symbols.includes(sym)) {
      show($("#market-msg"), `unknown symbol ${JSON.stringify(sym)} on ${exSel.value}: pick one from the list`);
      return;
    }
    show($("#market-msg"), "");
    params.set("exchange", ex.name);
    params.set("symbol", sym);
    history.replaceState(null, "", `${location.pathname}?${params}`);
    connect({ view: "market", exchange: ex.name, symbol: sym }, renderMarket);
  };
  exSel.addEventListener("change", () => { fillSymbols(exSel.value); start(); });
  form.addEventListener("submit", (ev) => { ev.preventDefault(); start(); });
  fillSymbols(exSel.value);
  if (params.get("symbol")) symbol.value = params.get("symbol");
  updateNav();
  start();
}

if (page === "exchanges") {
  updateNav();
  connect({ view: "exchanges" }, renderExchanges);
} else if (page === "account") {
  accountPage("account", renderAccount);
} else if (page === "quotes") {
  setupQuoteForm();
  accountPage("quotes", renderQuotes);
} else if (page === "orders") {
  setupOrderForm();
  accountPage("orders", renderOrders);
} else if (page === "market") {
  setupMarket();
}
window.addEventListener("beforeunload", () => { if (source) source.close(); });
