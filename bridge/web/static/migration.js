// The migration page's script: reads the credential from the address's fragment (or the
// sign-in form), asks the bridge's JSON routes with it, and draws the tables and, when the
// charting library is there, the charts. Everything shown is set as text, never as HTML.
"use strict";

(function () {
  const state = { auth: null, guild: null, charts: [] };
  const $ = (id) => document.getElementById(id);

  function takeFragment() {
    // #secret=S, or #openid=TOKEN&server=NAME; #guild=ID picks a guild. The credential is
    // removed from the address bar (and so from the history) at once.
    const params = new URLSearchParams(location.hash.slice(1));
    if (params.get("secret")) {
      state.auth = "Bearer " + params.get("secret");
    } else if (params.get("openid") && params.get("server")) {
      state.auth = "OpenID " + params.get("server") + " " + params.get("openid");
    }
    state.guild = params.get("guild");
    if (location.hash) {
      const keep = state.guild ? "#guild=" + encodeURIComponent(state.guild) : "";
      history.replaceState(null, "", location.pathname + location.search + keep);
    }
  }

  function credentialFrom(text) {
    // A pasted request_token answer (JSON) is an OpenID token; anything else a secret.
    text = text.trim();
    if (text.startsWith("{")) {
      const token = JSON.parse(text);
      if (!token.access_token || !token.matrix_server_name) {
        throw new Error("The JSON needs access_token and matrix_server_name");
      }
      return "OpenID " + token.matrix_server_name + " " + token.access_token;
    }
    return text ? "Bearer " + text : null;
  }

  function notice(text) {
    $("notice").textContent = text;
    $("notice").hidden = !text;
  }

  async function api(path) {
    const response = await fetch(path, {
      headers: { Authorization: state.auth, Accept: "application/json" },
      cache: "no-store",
    });
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = { error: "The bridge answered HTTP " + response.status };
    }
    if (!response.ok) {
      const failure = new Error(body.error || "HTTP " + response.status);
      failure.status = response.status;
      throw failure;
    }
    return body;
  }

  const percent = (share) => (share * 100).toFixed(1) + " %";
  const when = (ms) => new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";
  const arrow = { up: "↑", down: "↓", steady: "→" };

  function showTrend(id, share) {
    // "57.1 %", then smaller: "↑ from 37.5 % a week ago".
    const small = document.createElement("small");
    small.textContent = " " + arrow[share.direction] + " from " + percent(share.before) +
      " a week ago";
    $(id).replaceChildren(percent(share.now), small);
    $(id).dataset.direction = share.direction;
  }

  function fillTable(id, rows) {
    // rows: [{attrs: {...}, cells: [[text, className], ...]}]
    const body = $(id).querySelector("tbody");
    body.replaceChildren();
    for (const row of rows) {
      const tr = document.createElement("tr");
      for (const [name, value] of Object.entries(row.attrs)) tr.setAttribute(name, value);
      for (const [text, className] of row.cells) {
        const td = document.createElement("td");
        td.textContent = text;
        if (className) td.className = className;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  function cutoverText(cutover) {
    if (!cutover) return "Not cut over: Discord stays open as usual.";
    const started = "Announced " + when(cutover.started_at_ms) + " by " + cutover.started_by +
      " in " + cutover.announced_channels + " channel(s)";
    if (cutover.undone_at_ms) return started + "; undone " + when(cutover.undone_at_ms) + ".";
    if (cutover.read_only) {
      return started + "; Discord is read-only (" + cutover.overwrites_kept +
        " channel permission(s) kept to restore with cutover --undo).";
    }
    return started + "; Discord stays writable.";
  }

  function showReport(report) {
    $("guild-name").textContent = report.guild_name;
    $("generated-at").textContent = when(report.generated_at_ms);
    $("active").textContent = String(report.active);
    $("linked").textContent = String(report.linked);
    showTrend("linked-share", report.trend.linked_share);
    showTrend("matrix-share", report.trend.matrix_share);
    $("cutover").textContent = cutoverText(report.cutover);
    $("cutover").dataset.state = !report.cutover ? "none"
      : report.cutover.undone_at_ms ? "undone" : report.cutover.read_only ? "read-only" : "announced";
    fillTable("channels-table", report.channels.map((c) => ({
      attrs: { "data-channel-id": c.channel_id },
      cells: [[c.name, "name"], [String(c.from_matrix), "from-matrix"],
        [String(c.from_discord), "from-discord"], [percent(c.share), "share"]],
    })));
    fillTable("members-table", report.members.map((m) => ({
      attrs: { "data-user-id": m.discord_user_id, "data-linked": m.mxid ? "yes" : "no" },
      cells: [[m.name, "name"], [m.discord_user_id, "discord-id"],
        [m.mxid || "not linked", "mxid"], [when(m.last_active_ms), "last-active"]],
    })));
    fillTable("days-table", report.days.map((d) => ({
      attrs: { "data-day": d.day },
      cells: [[d.day, "day"], [String(d.active), "active"], [String(d.linked), "linked"],
        [String(d.from_matrix), "from-matrix"], [String(d.from_discord), "from-discord"]],
    })));
    $("report").hidden = false;
    drawCharts(report);
  }

  function drawCharts(report) {
    for (const chart of state.charts) chart.destroy();
    state.charts = [];
    if (typeof window.Chart !== "function") {
      $("charts-missing").hidden = false;
      document.querySelector(".charts").hidden = true;
      return;
    }
    const Chart = window.Chart;
    const common = { animation: false, responsive: true, maintainAspectRatio: false };
    const days = report.days.map((d) => d.day.slice(5));
    state.charts.push(new Chart($("members-chart"), {
      type: "line",
      data: {
        labels: days,
        datasets: [
          { label: "Active", data: report.days.map((d) => d.active), borderColor: "#5865f2",
            backgroundColor: "#5865f2" },
          { label: "Linked", data: report.days.map((d) => d.linked), borderColor: "#0dbd8b",
            backgroundColor: "rgba(13, 189, 139, 0.25)", fill: true },
        ],
      },
      options: { ...common, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    }));
    state.charts.push(new Chart($("channels-chart"), {
      type: "bar",
      data: {
        labels: report.channels.map((c) => "#" + c.name),
        datasets: [{ label: "Sent from Matrix (%)", backgroundColor: "#0dbd8b",
          data: report.channels.map((c) => Math.round(c.share * 1000) / 10) }],
      },
      options: { ...common, indexAxis: "y",
        scales: { x: { min: 0, max: 100, ticks: { callback: (v) => v + " %" } } } },
    }));
    state.charts.push(new Chart($("messages-chart"), {
      type: "bar",
      data: {
        labels: days,
        datasets: [
          { label: "From Matrix", data: report.days.map((d) => d.from_matrix),
            backgroundColor: "#0dbd8b" },
          { label: "From Discord", data: report.days.map((d) => d.from_discord),
            backgroundColor: "#5865f2" },
        ],
      },
      options: { ...common, scales: { x: { stacked: true },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    }));
  }

  async function showGuild(guildId) {
    state.guild = guildId;
    history.replaceState(null, "", location.pathname + "#guild=" + encodeURIComponent(guildId));
    notice("");
    showReport(await api("api/guilds/" + encodeURIComponent(guildId)));
  }

  async function start() {
    if (!state.auth) {
      $("signin").hidden = false;
      return;
    }
    let listing;
    try {
      listing = await api("api/guilds");
    } catch (error) {
      notice(error.message);
      if (error.status === 401 || error.status === 403) {
        state.auth = null;
        $("signin").hidden = false;
      }
      return;
    }
    $("signin").hidden = true;
    $("viewer").textContent =
      (listing.viewer.startsWith("@") ? "Signed in as " : "Signed in with ") + listing.viewer;
    if (!listing.guilds.length) {
      notice("No guild is bridged yet.");
      return;
    }
    const select = $("guild");
    select.replaceChildren();
    for (const guild of listing.guilds) {
      const option = document.createElement("option");
      option.value = guild.guild_id;
      option.textContent = guild.name || guild.guild_id;
      select.appendChild(option);
    }
    $("guild-picker").hidden = listing.guilds.length < 2;
    const wanted = listing.guilds.some((g) => g.guild_id === state.guild)
      ? state.guild : listing.guilds[0].guild_id;
    select.value = wanted;
    select.onchange = () => showGuild(select.value).catch((error) => notice(error.message));
    try {
      await showGuild(wanted);
    } catch (error) {
      notice(error.message);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    takeFragment();
    $("signin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      try {
        state.auth = credentialFrom($("credential").value);
      } catch (error) {
        notice(error.message);
        return;
      }
      $("credential").value = "";
      start();
    });
    start();
  });
})();
