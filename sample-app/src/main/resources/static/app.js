// The sample page: one TopicSocket per topic (the starter's client, served at /tinywasm/topic-socket.js): frames
// decoded as UTF-8, reconnection with backoff, and no line lost across a reconnection (it resumes after the last
// offset it saw, from the topic's history).
import { TopicSocket } from '/tinywasm/topic-socket.js';

const decoder = new TextDecoder();
let opens = 0;

function connect(topic, onFrame, onLive) {
  const status = document.getElementById('status-' + topic);
  return new TopicSocket(topic, {
    onFrame: (bytes) => onFrame(decoder.decode(bytes)),
    onReset: () => {
      if (document.getElementById(topic + '-log')) append(topic + '-log', `(some ${topic} lines were missed)`);
    },
    onStatus: (s) => {
      status.textContent = s;
      status.className = 'status ' + (s === 'live' ? 'live' : 'down');
      if (s === 'live') {
        opens += 1;
        document.body.dataset.opens = String(opens);
        if (onLive) onLive();
      }
    },
  });
}

function append(listId, text) {
  const list = document.getElementById(listId);
  const item = document.createElement('li');
  item.textContent = text;
  list.prepend(item);
  while (list.children.length > 100) list.lastChild.remove();
}

async function publish(topic, text) {
  const response = await fetch('/api/publish/' + encodeURIComponent(topic), {
    method: 'POST', headers: {'Content-Type': 'text/plain'}, body: text,
  });
  if (!response.ok) {
    const error = 'error: ' + (await response.text());
    if (topic === 'users.requests') document.getElementById('users-last').textContent = error;
    else append(topic.replace('.in', '') + '-log', error);
  }
}

function onSubmit(formId, handler) {
  document.getElementById(formId).addEventListener('submit', (e) => {
    e.preventDefault();
    handler(e.submitter);
  });
}

const sockets = {};
sockets.chat = connect('chat', (line) => { append('chat-log', line); swapDemo.onChatLine(line); });
// the roster lives in the users module: ask it for the current one whenever we (re)connect
sockets.users = connect('users', showRoster, () => publish('users.requests', 'list'));
sockets.echo = connect('echo', (text) => append('echo-log', text));
sockets.shout = connect('shout', (text) => append('shout-log', text));
// for the browser test (and the curious): window.tinywasmSample.chat.offset, .drop(), .close(), .open()
window.tinywasmSample = sockets;

// The users module answers "<what happened> | <n> user(s): a, b, c"; the card shows the names as a list.
function showRoster(text) {
  const bar = text.indexOf(' | ');
  const what = bar < 0 ? '' : text.slice(0, bar);
  const roster = bar < 0 ? text : text.slice(bar + 3);
  const colon = roster.indexOf(':');
  const names = colon < 0 ? [] : roster.slice(colon + 1).split(',').map((n) => n.trim()).filter((n) => n);
  document.getElementById('users-last').textContent = what === 'list' ? roster.slice(0, Math.max(colon, 0)) : what;
  const items = names.map((name) => {
    const li = document.createElement('li');
    li.dataset.name = name;
    li.textContent = name;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'user-remove';
    remove.textContent = '×';
    remove.title = 'Remove ' + name;
    remove.addEventListener('click', () => publish('users.requests', 'remove ' + name));
    li.appendChild(remove);
    return li;
  });
  document.getElementById('users-list').replaceChildren(...items);
}

// A form sends its input to a guest's topic and clears it.
function sendFrom(formId, inputId, topic, format = (v) => v) {
  onSubmit(formId, () => {
    const input = document.getElementById(inputId);
    publish(topic, format(input.value.trim()));
    input.value = '';
    input.focus();
  });
}
sendFrom('chat-form', 'chat-input', 'chat.in');
sendFrom('users-form', 'user-name', 'users.requests', (name) => 'add ' + name);
sendFrom('echo-form', 'echo-input', 'echo.in');
sendFrom('shout-form', 'shout-input', 'shout.in');

// The swap demo: numbered chat lines before, during and after a server-side redeploy of chat.wasm; each answer
// is counted once, by the version that gave it ("[v2] " marks version 2's replies).
const swapDemo = (() => {
  const before = 10;       // lines sent before the redeploy
  const afterNew = 10;     // keep sending until the new version has answered this many
  const maxLines = 400;    // give up (and say so) if the swap never happens
  let run = null;
  const result = document.getElementById('swap-result');
  const answered = () => run.answers.size;
  const byNew = () => [...run.answers.values()].filter((v) => v === run.to).length;
  const show = () => {
    const old = answered() - byNew();
    result.textContent = `${run.sent} sent · ${answered()} answered (old version ${run.from || '?'}: ${old}, ` +
      `new version ${run.to || '?'}: ${byNew()}) · ${run.sent - answered()} waiting · ${run.duplicates} duplicates` +
      (run.error ? ` · ${run.error}` : '');
    if (run.finished && answered() === run.sent) {
      result.dataset.done = 'true';
      document.getElementById('swap-run').disabled = false;
    }
  };
  const onChatLine = (line) => {
    const m = /^#\d+ (\[v2\] )?swap-demo (\d+) (\w+)$/.exec(line);
    if (!run || !m || m[3] !== run.id) return;
    const n = Number(m[2]);
    if (run.answers.has(n)) run.duplicates += 1;
    else run.answers.set(n, m[1] ? 'v2' : 'v1');
    show();
  };
  document.getElementById('swap-run').addEventListener('click', async (e) => {
    e.target.disabled = true;
    delete result.dataset.done;
    run = {id: Math.random().toString(36).slice(2, 8), sent: 0, answers: new Map(), duplicates: 0,
      from: null, to: null, error: null, finished: false};
    while (run.sent < maxLines && (run.sent < before || !run.to || byNew() < afterNew)) {
      run.sent += 1;
      await publish('chat.in', `swap-demo ${run.sent} ${run.id}`);
      if (run.sent === before) {
        const response = await fetch('/api/demo/swap', {method: 'POST'});
        const body = await response.json();
        if (!response.ok) { run.error = 'swap refused: ' + body.error; break; }
        run.from = body.from;
        run.to = body.to;
      }
      show();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (run.to && byNew() < afterNew) run.error = 'the new version did not answer in time';
    run.finished = true;
    show();
  });
  return {onChatLine};
})();

// The Rust stats module's summary: {"total":n,"messages":{"chat.in":n,...},"words":[["hello",2],...]}.
function showStats(json) {
  const stats = JSON.parse(json);
  const messages = Object.entries(stats.messages).flatMap(([topic, n]) => {
    const dt = document.createElement('dt');
    dt.textContent = topic;
    const dd = document.createElement('dd');
    dd.textContent = String(n);
    return [dt, dd];
  });
  document.getElementById('stats-messages').replaceChildren(...messages);
  const words = stats.words.map(([word, n]) => {
    const li = document.createElement('li');
    li.textContent = `${word} ×${n}`;
    return li;
  });
  document.getElementById('stats-words').replaceChildren(...words);
}
// Opt-in: the module reports after each message it sees, so the card shows the traffic from the next one on.
document.getElementById('stats-watch').addEventListener('click', (e) => {
  e.target.disabled = true;
  e.target.textContent = 'Watching (send something)';
  sockets.stats = connect('stats', showStats);
});

// The Rust notes module answers HTTP itself: {"notes":[{"id":1,"text":"..."}],"count":1}.
async function refreshNotes() {
  const status = document.getElementById('status-notes');
  try {
    const response = await fetch('/m/notes');
    if (!response.ok) throw new Error(String(response.status));
    const body = await response.json();
    const items = body.notes.map((note) => {
      const li = document.createElement('li');
      li.dataset.id = String(note.id);
      li.textContent = note.text + ' ';
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'note-delete';
      remove.textContent = '×';
      remove.title = 'Delete note ' + note.id;
      remove.addEventListener('click', async () => {
        await fetch('/m/notes/' + note.id, {method: 'DELETE'});
        refreshNotes();
      });
      li.appendChild(remove);
      return li;
    });
    document.getElementById('notes-list').replaceChildren(...items);
    status.textContent = body.count + (body.count === 1 ? ' note' : ' notes');
    status.className = 'status live';
  } catch (e) {
    status.textContent = 'unavailable';
    status.className = 'status down';
  }
}
onSubmit('notes-form', async () => {
  const input = document.getElementById('note-text');
  const response = await fetch('/m/notes', {method: 'POST', headers: {'Content-Type': 'text/plain'}, body: input.value});
  if (response.ok) input.value = '';
  refreshNotes();
});
refreshNotes();

async function refreshModules() {
  try {
    const response = await fetch('/actuator/wasi');
    const body = await response.json();
    const modules = Object.values(body.modules);
    const rows = modules.map((m) => {
      const tr = document.createElement('tr');
      tr.id = 'module-' + m.name;
      if (m.state === 'FAILED') tr.className = 'failed';
      const c = m.counters;
      const cells = [m.name, m.state, m.engine || '', (m.sha256 || '').slice(0, 12), c.swaps, c.delivered,
        c.errors + c.traps + c.timeouts, m.topics.join(', '), m.lastError || ''];
      cells.forEach((value, i) => {
        const td = document.createElement('td');
        td.textContent = String(value);
        if (i === 3) { td.className = 'sha'; td.title = m.sha256 || ''; }
        tr.appendChild(td);
      });
      return tr;
    });
    document.getElementById('modules').replaceChildren(...rows);
    const logger = body.modules.logger;
    const loggerStatus = document.getElementById('status-logger');
    loggerStatus.textContent = logger ? logger.state.toLowerCase() : 'not loaded';
    loggerStatus.className = logger && logger.state === 'SERVING' ? 'status live' : 'status down';
    document.getElementById('logger-count').textContent = logger ? String(logger.counters.delivered) : '–';
    const chat = body.modules.chat;
    document.getElementById('swap-version').textContent = chat ? 'chat ' + (chat.sha256 || '').slice(0, 8) : '–';
  } catch (e) {
    // the app may be restarting; try again on the next tick
  }
}
refreshModules();
setInterval(refreshModules, 2000);
