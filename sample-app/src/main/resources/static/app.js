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
    onReset: () => append(topic === 'echo' ? 'echo-log' : 'chat-log', `(some ${topic} lines were missed)`),
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
  if (!response.ok) append(topic.startsWith('echo') ? 'echo-log' : 'chat-log', 'error: ' + (await response.text()));
}

function onSubmit(formId, handler) {
  document.getElementById(formId).addEventListener('submit', (e) => {
    e.preventDefault();
    handler(e.submitter);
  });
}

const sockets = {};
sockets.chat = connect('chat', (line) => append('chat-log', line));
// the roster lives in the users module: ask it for the current one whenever we (re)connect
sockets.users = connect('users', (roster) => { document.getElementById('roster').textContent = roster; },
  () => publish('users.requests', 'list'));
sockets.echo = connect('echo', (text) => append('echo-log', text));
// for the browser test (and the curious): window.tinywasmSample.chat.offset, .drop(), .close(), .open()
window.tinywasmSample = sockets;

onSubmit('chat-form', () => {
  const input = document.getElementById('chat-input');
  publish('chat.in', input.value);
  input.value = '';
});
onSubmit('users-form', (button) => {
  const name = document.getElementById('user-name');
  publish('users.requests', `${button.value} ${name.value}`);
});
onSubmit('echo-form', () => {
  const input = document.getElementById('echo-input');
  publish('echo.in', input.value);
  input.value = '';
});

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
    const rows = Object.values(body.modules).map((m) => {
      const tr = document.createElement('tr');
      tr.id = 'module-' + m.name;
      const cells = [m.name, m.state, m.topics.join(', '), (m.sha256 || '').slice(0, 12), m.counters.swaps,
        m.counters.delivered, m.lastError || ''];
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = String(c);
        tr.appendChild(td);
      }
      return tr;
    });
    document.getElementById('modules').replaceChildren(...rows);
  } catch (e) {
    // the app may be restarting; try again on the next tick
  }
}
refreshModules();
setInterval(refreshModules, 2000);
