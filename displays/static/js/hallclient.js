/*
 * HallOps shared websocket client, used by every screen in displays/.
 *
 * Speaks docs/protocol.md:
 *   - one websocket at /ws on the page's own host;
 *   - optional session setup (auth with a device or session token) on every (re)connect;
 *   - subscribe -> snapshot, then events numbered by seq; a gap in seq sends `resync`
 *     and events are ignored until the fresh snapshot arrives;
 *   - requests carry an id and are answered by {re: id, type: "ok"|"error"};
 *   - reconnect with backoff (0.5 s doubling to 10 s, with jitter); a heartbeat `ping`
 *     notices a dead link that the browser has not reported yet;
 *   - while disconnected the last state stays on screen and a visible "连接中断" mark is
 *     shown; after reconnecting (also after a server restart) the client re-runs the
 *     session setup and re-subscribes on its own, without a page reload.
 *
 * Plain script (no modules, no build step): defines window.HallClient and window.HallState.
 * Needs messages-zh.js (window.HallMessages) loaded first.
 */
(function (global) {
  'use strict';

  var DONE_STATES = { done: true, no_show: true, cancelled: true };

  // ------------------------------------------------------------------ state model

  /** The screen's copy of the hall: loaded from a snapshot, updated by events. */
  function HallState() {
    this.clear();
  }

  HallState.prototype.clear = function () {
    this.hall = null;
    this.queues = new Map(); // code -> queue summary
    this.windows = new Map(); // number -> window view
    this.tickets = new Map(); // id -> ticket view
    this.recentCalls = []; // newest first
    // The hall clock: hall time clockAtMs was read at local time clockLocalMs; it runs
    // clockSpeed hall seconds per real second (1 real, 60 in the demo, 0 paused).
    this.clockAtMs = Date.now();
    this.clockLocalMs = this.clockAtMs;
    this.clockSpeed = 1;
    this.loaded = false;
  };

  HallState.prototype.load = function (state) {
    this.hall = state.hall || {};
    this.queues = new Map((state.queues || []).map(function (q) { return [q.code, q]; }));
    this.windows = new Map((state.windows || []).map(function (w) { return [w.number, w]; }));
    this.tickets = new Map((state.tickets || []).map(function (t) { return [t.id, t]; }));
    this.recentCalls = (state.recent_calls || []).slice();
    if (this.hall.now) this.syncClock(this.hall.now);
    this.loaded = true;
  };

  /** Set the hall clock from the server: its time (snapshot `hall.now`, ping `server_time`)
   *  and, when known, its speed (ping `clock_speed`). */
  HallState.prototype.syncClock = function (iso, speed) {
    var t = Date.parse(iso);
    if (isNaN(t)) return;
    this.clockAtMs = t;
    this.clockLocalMs = Date.now();
    if (typeof speed === 'number' && speed >= 0) this.clockSpeed = speed;
  };

  /** Now on the hall's clock (the server's, simulated in the demo), as a Date. Every screen
   *  shows this, never the machine's own clock. */
  HallState.prototype.now = function () {
    return new Date(this.clockAtMs + (Date.now() - this.clockLocalMs) * this.clockSpeed);
  };

  /** Apply one event: replace the entities it carries, keep the recent calls list. */
  HallState.prototype.apply = function (ev) {
    var tv = ev.ticket_view;
    if (tv && tv.id) this.tickets.set(tv.id, tv); // replaced whole: no stale position or estimate
    if (ev.window_view && ev.window_view.number != null) this.windows.set(ev.window_view.number, ev.window_view);
    (ev.queues || []).forEach(function (q) { this.queues.set(q.code, q); }, this);
    var limit = (this.hall && this.hall.recent_calls) || 8;
    if (ev.type === 'ticket_called') {
      var data = ev.data || {};
      var call = {
        ticket: data.number || (tv && tv.number), ticket_id: ev.ticket,
        queue: data.queue || (tv && tv.queue), window: ev.window, called_at: ev.at, state: 'called'
      };
      this.recentCalls = [call].concat(this.recentCalls.filter(function (c) { return c.ticket_id !== ev.ticket; }))
        .slice(0, limit);
    } else if (ev.ticket && tv) {
      this.recentCalls.forEach(function (c) { if (c.ticket_id === ev.ticket) c.state = tv.state; });
    }
  };

  /** Waiting tickets, in the order the server ranks them (position, then arrival). */
  HallState.prototype.waiting = function (queues) {
    var set = queues ? new Set(queues) : null;
    var list = [];
    this.tickets.forEach(function (t) {
      if (t.state === 'waiting' && (!set || set.has(t.queue))) list.push(t);
    });
    list.sort(function (a, b) {
      var pa = a.position == null ? 1e9 : a.position, pb = b.position == null ? 1e9 : b.position;
      if (a.queue === b.queue && pa !== pb) return pa - pb;
      return String(a.issued_at).localeCompare(String(b.issued_at));
    });
    return list;
  };

  HallState.isActive = function (t) { return t && !DONE_STATES[t.state]; };

  // ------------------------------------------------------------------ client

  function defaultUrl() {
    var proto = global.location.protocol === 'https:' ? 'wss:' : 'ws:';
    return proto + '//' + global.location.host + '/ws';
  }

  /**
   * new HallClient({
   *   setup: async function (client) {...},   // on every connect, before subscribe (auth ...)
   *   subscription: function () { return {...} | null },  // subscribe fields; null: none
   *   onSnapshot: function (state, info) {},  // info.first: the first snapshot of this page
   *   onEvent: function (event, state) {},
   *   onStatus: function (online) {},
   *   onSetupError: function (err) {},        // setup or subscribe answered with an error
   *   banner: true,                           // manage the "连接中断" banner
   * }).start()
   */
  function HallClient(opts) {
    this.opts = opts || {};
    this.url = this.opts.url || defaultUrl();
    this.state = new HallState();
    this.ws = null;
    this.seq = null;
    this.resyncing = false;
    this.online = false;
    this.everOnline = false;
    this.snapshots = 0;
    this.nextId = 1;
    this.pending = new Map();
    this.attempt = 0;
    this.minDelay = this.opts.minDelay || 500;
    this.maxDelay = this.opts.maxDelay || 10000;
    this.heartbeatMs = this.opts.heartbeatMs || 15000;
    this.stopped = false;
    this._timer = null;
    this._hb = null;
  }

  HallClient.prototype.start = function () {
    var self = this;
    this.stopped = false;
    if (this.opts.banner !== false) ensureBanner();
    setOfflineMark(true, false);
    global.addEventListener('online', function () { self.reconnectNow(); });
    this._connect();
    return this;
  };

  HallClient.prototype.stop = function () {
    this.stopped = true;
    clearTimeout(this._timer);
    clearInterval(this._hb);
    if (this.ws) this.ws.close();
  };

  HallClient.prototype.reconnectNow = function () {
    if (this.stopped) return;
    if (this.ws && this.ws.readyState <= 1) return;
    clearTimeout(this._timer);
    this.attempt = 0;
    this._connect();
  };

  HallClient.prototype._connect = function () {
    var self = this;
    clearTimeout(this._timer);
    var ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = function () { self._onOpen(ws); };
    ws.onmessage = function (m) { if (self.ws === ws) self._onMessage(m.data); };
    ws.onclose = function () { self._dropped(ws); };
    ws.onerror = function () { /* onclose follows */ };
  };

  HallClient.prototype._onOpen = function (ws) {
    var self = this;
    this.seq = null;
    this.resyncing = false;
    this._startHeartbeat(ws);
    Promise.resolve()
      .then(function () { return self.opts.setup ? self.opts.setup(self) : null; })
      .then(function () { return self._subscribe(); })
      .then(function () {
        if (self.ws !== ws) return;
        self.attempt = 0;
        self._setOnline(true);
      })
      .catch(function (err) {
        if (self.ws !== ws) return;
        if (err && err.code === 'disconnected') return; // the close handler takes over
        // The link is up but the server refused something (a revoked token ...): the page decides.
        self._setOnline(true);
        if (self.opts.onSetupError) self.opts.onSetupError(err);
        else if (global.console) console.warn('HallClient setup failed', err);
      });
  };

  HallClient.prototype._subscribe = function () {
    var sub = this.opts.subscription ? this.opts.subscription() : null;
    if (!sub) return Promise.resolve(null);
    return this.request('subscribe', sub);
  };

  /** Subscribe again (the page's subscription changed, e.g. after a terminal login). */
  HallClient.prototype.resubscribe = function () {
    this.seq = null;
    this.resyncing = false;
    return this._subscribe();
  };

  /** Ask for a fresh snapshot of the same subscription (also used for periodic refresh). */
  HallClient.prototype.resync = function () {
    var self = this;
    if (!this.isOpen() || this.resyncing) return Promise.resolve(null);
    this.resyncing = true;
    var ws = this.ws;
    return this.request('resync', {}).then(function (reply) {
      // The snapshot comes before the reply; if it has not, start over on a new connection.
      setTimeout(function () { if (self.resyncing && self.ws === ws) self._dropped(ws); }, 3000);
      return reply;
    }).catch(function (err) {
      self.resyncing = false;
      if (err && err.code !== 'disconnected' && self.ws) self.ws.close();
      throw err;
    });
  };

  HallClient.prototype.isOpen = function () {
    return !!(this.ws && this.ws.readyState === 1);
  };

  HallClient.prototype._onMessage = function (raw) {
    var msg;
    try { msg = JSON.parse(raw); } catch (e) { return; }
    if (Object.prototype.hasOwnProperty.call(msg, 're')) {
      var p = this.pending.get(msg.re);
      if (!p) return;
      this.pending.delete(msg.re);
      clearTimeout(p.timer);
      if (msg.type === 'ok') p.resolve(msg);
      else p.reject({ code: msg.code || 'error', message: msg.message || '', reply: msg });
      return;
    }
    if (msg.type === 'snapshot') {
      this.seq = msg.seq;
      this.resyncing = false;
      this.state.load(msg.state || {});
      this.snapshots += 1;
      if (this.opts.onSnapshot) this.opts.onSnapshot(this.state, { first: this.snapshots === 1 });
      return;
    }
    if (msg.type === 'event') {
      if (this.seq === null || this.resyncing) return; // a snapshot is on its way
      if (msg.seq <= this.seq) return; // already seen
      if (msg.seq !== this.seq + 1) {
        // A gap: ask for a fresh snapshot and drop events until it arrives.
        this.resync().catch(function () {});
        return;
      }
      this.seq = msg.seq;
      var ev = msg.event || {};
      this.state.apply(ev);
      if (this.opts.onEvent) this.opts.onEvent(ev, this.state);
      if (ev.type === 'day_started') this.resync().catch(function () {});
    }
  };

  /** Send a request; resolves with the ok reply, rejects with {code, message}. */
  HallClient.prototype.request = function (type, fields, options) {
    var self = this;
    var timeoutMs = (options && options.timeout) || 15000;
    if (!this.isOpen()) return Promise.reject({ code: 'disconnected', message: '连接中断,请稍后再试' });
    var id = this.nextId++;
    var msg = Object.assign({ id: id, type: type }, fields || {});
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        if (!self.pending.has(id)) return;
        self.pending.delete(id);
        reject({ code: 'timeout', message: '服务器无响应' });
      }, timeoutMs);
      self.pending.set(id, { resolve: resolve, reject: reject, timer: timer });
      try {
        self.ws.send(JSON.stringify(msg));
      } catch (e) {
        self.pending.delete(id);
        clearTimeout(timer);
        reject({ code: 'disconnected', message: '连接中断,请稍后再试' });
      }
    });
  };

  HallClient.prototype._startHeartbeat = function (ws) {
    var self = this;
    clearInterval(this._hb);
    function beat() {
      if (self.ws !== ws || ws.readyState !== 1) return;
      self.request('ping', {}, { timeout: 10000 })
        .then(function (r) {
          if (r.server_time) self.state.syncClock(r.server_time, r.clock_speed);
          if (self.opts.onClock) self.opts.onClock(self.state);
        })
        .catch(function (err) {
          // No answer in time: the link is dead even if the browser has not noticed yet.
          if (err && err.code === 'timeout' && self.ws === ws) self._dropped(ws);
        });
    }
    beat(); // at once: the clock's speed is known before the first tick of any screen clock
    this._hb = setInterval(beat, this.heartbeatMs);
  };

  HallClient.prototype._dropped = function (ws) {
    if (this.ws !== ws) return; // an old socket
    this.ws = null;
    clearInterval(this._hb);
    try { ws.onclose = ws.onmessage = ws.onopen = null; ws.close(); } catch (e) { /* already closed */ }
    var pending = this.pending;
    this.pending = new Map();
    pending.forEach(function (p) {
      clearTimeout(p.timer);
      p.reject({ code: 'disconnected', message: '连接中断,请稍后再试' });
    });
    this.seq = null;
    this.resyncing = false;
    this._setOnline(false);
    this._scheduleReconnect();
  };

  HallClient.prototype._scheduleReconnect = function () {
    var self = this;
    if (this.stopped) return;
    var base = Math.min(this.maxDelay, this.minDelay * Math.pow(2, this.attempt));
    var delay = base * (0.8 + Math.random() * 0.4); // +-20 % jitter: displays do not come back in lockstep
    this.attempt += 1;
    clearTimeout(this._timer);
    this._timer = setTimeout(function () { self._connect(); }, delay);
  };

  HallClient.prototype._setOnline = function (online) {
    if (online === this.online) return;
    this.online = online;
    if (online) this.everOnline = true;
    if (this.opts.banner !== false) setOfflineMark(!online, this.everOnline);
    if (this.opts.onStatus) this.opts.onStatus(online);
  };

  // ------------------------------------------------------------------ connection mark

  function ensureBanner() {
    if (document.getElementById('hc-conn')) return;
    var el = document.createElement('div');
    el.id = 'hc-conn';
    el.className = 'hc-conn';
    el.setAttribute('role', 'status');
    el.setAttribute('aria-live', 'polite');
    el.textContent = '正在连接服务器…';
    (document.body || document.documentElement).appendChild(el);
  }

  function setOfflineMark(offline, wasOnline) {
    document.documentElement.classList.toggle('hc-offline', offline);
    var el = document.getElementById('hc-conn');
    if (!el) return;
    el.textContent = wasOnline ? '连接中断 · 正在重新连接…' : '正在连接服务器…';
    el.hidden = !offline;
  }

  // ------------------------------------------------------------------ device tokens

  /**
   * A device token given once as ?token=... and kept in localStorage under `storageKey`;
   * the token is removed from the address bar. Returns the stored token or null.
   */
  HallClient.deviceToken = function (storageKey) {
    var params = new URLSearchParams(global.location.search);
    var given = params.get('token');
    if (given) {
      try { global.localStorage.setItem(storageKey, given.trim()); } catch (e) { /* private mode */ }
      params.delete('token');
      var rest = params.toString();
      global.history.replaceState(null, '', global.location.pathname + (rest ? '?' + rest : '') + global.location.hash);
    }
    try { return global.localStorage.getItem(storageKey) || (given && given.trim()) || null; } catch (e) { return given || null; }
  };

  /** A large notice over the page (e.g. a display that needs a token); null text hides it. */
  HallClient.notice = function (title, text) {
    var el = document.getElementById('hc-notice');
    if (!title) { if (el) el.hidden = true; return; }
    if (!el) {
      el = document.createElement('div');
      el.id = 'hc-notice';
      el.className = 'hc-notice';
      el.setAttribute('role', 'alert');
      el.innerHTML = '<div class="hc-notice-box"><h2></h2><p></p></div>';
      document.body.appendChild(el);
    }
    el.querySelector('h2').textContent = title;
    el.querySelector('p').textContent = text || '';
    el.hidden = false;
  };

  // ------------------------------------------------------------------ helpers for pages

  // Error texts come from messages-zh.js (load it before this file): Chinese only for
  // citizens and displays, with the server's detail for staff screens.
  function errorText(err, context) { return global.HallMessages.text(err, context); }
  function staffErrorText(err) { return global.HallMessages.staffText(err); }

  /** "约 15 分钟" for a wait in seconds. */
  function fmtWait(seconds) {
    if (seconds == null || isNaN(seconds)) return '—';
    if (seconds < 60) return '即将叫号';
    return '约 ' + Math.ceil(seconds / 60) + ' 分钟';
  }

  function fmtMinutes(seconds) {
    if (seconds == null || isNaN(seconds)) return '—';
    if (seconds < 60) return '<1';
    return String(Math.ceil(seconds / 60));
  }

  var WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];

  /** Parts of a date in the hall's timezone: {y, m, d, hh, mm, ss, wd}. */
  function partsIn(date, tz) {
    var out = {};
    try {
      var f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz || undefined, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
        hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short'
      });
      f.formatToParts(date).forEach(function (p) { out[p.type] = p.value; });
      var wdIndex = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(out.weekday);
      return { y: out.year, m: out.month, d: out.day, hh: out.hour, mm: out.minute, ss: out.second, wd: WEEKDAYS[wdIndex] };
    } catch (e) {
      var p2 = function (n) { return (n < 10 ? '0' : '') + n; };
      return { y: String(date.getFullYear()), m: p2(date.getMonth() + 1), d: p2(date.getDate()),
        hh: p2(date.getHours()), mm: p2(date.getMinutes()), ss: p2(date.getSeconds()), wd: WEEKDAYS[date.getDay()] };
    }
  }

  function fmtDate(date, tz) {
    var p = partsIn(date, tz);
    return p.y + '年' + Number(p.m) + '月' + Number(p.d) + '日 星期' + p.wd;
  }

  function fmtTime(date, tz, seconds) {
    var p = partsIn(date, tz);
    return p.hh + ':' + p.mm + (seconds ? ':' + p.ss : '');
  }

  function fmtDateTime(iso, tz) {
    var d = new Date(iso);
    if (isNaN(d)) return '';
    var p = partsIn(d, tz);
    return p.y + '-' + p.m + '-' + p.d + ' ' + p.hh + ':' + p.mm + ':' + p.ss;
  }

  function escapeHtml(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  /**
   * A Chinese name as HTML with break opportunities only between its phrases (for elements
   * with word-break: keep-all, base.css .zh-words): after · ・ 、 / and before a bracket.
   * "公安(出入境·治安·交警)" -> "公安<wbr>(出入境·<wbr>治安·<wbr>交警)"
   */
  function phraseHtml(name) {
    return escapeHtml(name).replace(/([·・、\/])/g, '$1<wbr>').replace(/([(（])/g, '<wbr>$1');
  }

  /** "5号窗口" */
  function windowLabel(n) { return n == null ? '' : n + '号窗口'; }

  var TICKET_STATE_TEXT = {
    waiting: '等候中', called: '已呼叫', serving: '办理中', done: '已办结', no_show: '已过号', cancelled: '已取消'
  };
  var WINDOW_STATE_TEXT = { open: '服务中', paused: '暂停服务', closed: '未开放' };
  var PRIORITY_TEXT = { normal: '', green: '绿色通道', appointment: '预约' };

  HallClient.util = {
    errorText: errorText, staffErrorText: staffErrorText, fmtWait: fmtWait, fmtMinutes: fmtMinutes, fmtDate: fmtDate, fmtTime: fmtTime,
    fmtDateTime: fmtDateTime, escapeHtml: escapeHtml, phraseHtml: phraseHtml, windowLabel: windowLabel, partsIn: partsIn,
    TICKET_STATE_TEXT: TICKET_STATE_TEXT, WINDOW_STATE_TEXT: WINDOW_STATE_TEXT,
    PRIORITY_TEXT: PRIORITY_TEXT
  };

  global.HallClient = HallClient;
  global.HallState = HallState;
})(window);
