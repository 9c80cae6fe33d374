// The demo page: plain JavaScript around one native EventSource per tab.

const STORAGE_KEY = "se-demo";
const $ = (id) => document.getElementById(id);

const state = {
  nick: "",
  token: "",
  source: null,
  loaded: false, // recent messages fetched once; after that, replay fills gaps
  users: new Set(),
  shown: new Set(), // ids of chat and direct messages on screen
  job: null,
  progress: new Map(), // jobId -> latest percent, in case events beat the POST /jobs answer
  // What arrived over the stream, in order, so tests can check nothing came twice.
  received: [],
  statusLog: [],
};
window.seDemo = state;

function setStatus(name, text) {
  state.statusLog.push(name);
  $("status").dataset.state = name;
  $("status-text").textContent = text ?? name;
}

async function request(method, url, body) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(payload.message ?? `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return payload;
}

// ---- joining: the server gives a secret token for the nickname; the stream URL carries it.

async function join(nick, token) {
  $("join-error").textContent = "";
  try {
    const granted = await request("POST", "/join", { nick, token });
    state.nick = granted.nick;
    state.token = granted.token;
    localStorage.setItem(STORAGE_KEY, JSON.stringify(granted));
    $("join-card").hidden = true;
    $("app").hidden = false;
    $("who").hidden = false;
    $("me").textContent = state.nick;
    connect();
  } catch (error) {
    localStorage.removeItem(STORAGE_KEY);
    $("join-card").hidden = false;
    $("app").hidden = true;
    $("join-error").textContent = error.message;
    $("nick").value = nick;
  }
}

// ---- the event stream

function connect() {
  state.source?.close();
  const source = new EventSource(`/events?token=${encodeURIComponent(state.token)}`);
  state.source = source;
  setStatus("connecting");

  source.onopen = () => {
    setStatus("live");
    if (!state.loaded) loadState({ messages: true });
    else loadState({ messages: false });
  };
  source.onerror = () => {
    if (source.readyState === EventSource.CONNECTING) {
      // The browser retries by itself and sends Last-Event-ID; the server replays the rest.
      setStatus("reconnecting");
      return;
    }
    // CLOSED: the server refused the stream (unknown token, e.g. after a restart). Join again.
    setStatus("offline", "rejoining");
    state.loaded = false;
    setTimeout(() => join(state.nick, state.token), 1000);
  };

  source.addEventListener("chat", (event) => {
    const message = JSON.parse(event.data);
    state.received.push({ type: "chat", id: message.id, eventId: event.lastEventId });
    showMessage($("messages"), message);
  });
  source.addEventListener("dm", (event) => {
    const message = JSON.parse(event.data);
    state.received.push({ type: "dm", id: message.id, eventId: event.lastEventId });
    showMessage($("dms"), message);
  });
  source.addEventListener("presence", (event) => {
    const { nick, online } = JSON.parse(event.data);
    if (online) state.users.add(nick);
    else state.users.delete(nick);
    renderUsers();
  });
  source.addEventListener("progress", (event) => {
    const { jobId, percent } = JSON.parse(event.data);
    state.progress.set(jobId, percent);
    if (jobId === state.job) showProgress(percent);
  });
  // The server could not replay what we missed (too old): reload the state from scratch.
  source.addEventListener("se-reset", () => {
    $("messages").replaceChildren();
    $("dms").replaceChildren();
    state.shown.clear();
    loadState({ messages: true });
  });
  source.addEventListener("shutdown", () => setStatus("reconnecting", "server restarting"));
}

async function loadState({ messages }) {
  const snapshot = await request("GET", "/state");
  state.users = new Set(snapshot.users);
  renderUsers();
  if (!messages) return;
  state.loaded = true;
  for (const message of snapshot.messages) showMessage($("messages"), message);
}

// ---- rendering

function showMessage(list, message) {
  if (state.shown.has(message.id)) return;
  state.shown.add(message.id);
  const item = document.createElement("li");
  item.dataset.id = message.id;
  if (message.from === state.nick) item.classList.add("mine");
  const from = document.createElement("span");
  from.className = "from";
  from.textContent = message.to ? `${message.from} → ${message.to}` : message.from;
  const time = document.createElement("span");
  time.className = "time";
  time.textContent = new Date(message.at).toLocaleTimeString();
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = message.text;
  item.append(time, from, text);
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

function renderUsers() {
  const names = [...state.users].sort((a, b) => a.localeCompare(b));
  $("user-count").textContent = String(names.length);
  $("users").replaceChildren(
    ...names.map((name) => {
      const item = document.createElement("li");
      item.textContent = name === state.nick ? `${name} (you)` : name;
      return item;
    }),
  );
  const select = $("dm-to");
  const chosen = select.value;
  const others = names.filter((name) => name !== state.nick);
  select.replaceChildren(
    ...others.map((name) => {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      return option;
    }),
  );
  if (others.includes(chosen)) select.value = chosen;
}

function showProgress(percent) {
  $("job-progress").hidden = false;
  $("job-fill").style.width = `${percent}%`;
  $("job-fill").classList.toggle("done", percent >= 100);
  $("job-percent").textContent = `${percent} %`;
  $("job-start").disabled = percent < 100;
}

/** Counts by reason as "client-gone 3, ended 1" (sorted), or "0". */
function byReason(counts) {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "0" : entries.map(([key, n]) => `${key} ${n}`).join(", ");
}

/** "up" / "down", with how often it was lost; "none" when no backplane has reported. */
function backplaneText({ backplaneUp, backplaneErrors }) {
  const state = backplaneUp === null ? "none" : backplaneUp ? "up" : "down";
  return backplaneErrors === 0 ? state : `${state} (lost ${backplaneErrors}×)`;
}

// GET /stats is the server's Prometheus registry read back as JSON (readSeMetrics).
async function refreshStats() {
  try {
    const stats = await request("GET", "/stats");
    $("stat-connections").textContent = stats.connectionsOpen;
    $("stat-clients").textContent = stats.clients;
    $("stat-opened").textContent = stats.connectionsOpened;
    $("stat-closed").textContent = byReason(stats.connectionsClosed);
    $("stat-refused").textContent = byReason(stats.connectionsRefused);
    $("stat-events").textContent = stats.eventsSent;
    $("stat-replayed").textContent = stats.eventsReplayed;
    $("stat-resets").textContent = byReason(stats.resets);
    $("stat-backplane").textContent = backplaneText(stats);
  } catch {
    // the server is away; the indicator already says so
  }
}

// ---- forms

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  join($("nick").value.trim());
});

$("chat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("chat-text");
  await request("POST", "/messages", { text: input.value });
  input.value = "";
});

$("dm-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("dm-error").textContent = "";
  try {
    await request("POST", "/dm", { to: $("dm-to").value, text: $("dm-text").value });
    $("dm-text").value = "";
  } catch (error) {
    $("dm-error").textContent = error.message;
  }
});

$("job-start").addEventListener("click", async () => {
  $("job-start").disabled = true;
  showProgress(0);
  const { jobId } = await request("POST", "/jobs");
  state.job = jobId;
  showProgress(state.progress.get(jobId) ?? 0);
});

// ---- start

const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
if (saved?.nick) join(saved.nick, saved.token);
refreshStats();
setInterval(refreshStats, 2000);
