/*
 * HallOps call announcer: a chime (WebAudio, no sound file), then the call in Mandarin,
 * repeated `repeat` times. The voice is, in order of preference:
 *   1. the browser's own zh-CN speechSynthesis voice, where one is installed;
 *   2. recorded clips joined in order (voice-clips.js, static/voice/), which work on every
 *      machine with Web Audio, offline (stock Debian Chromium has no Mandarin voice).
 * `prefer: 'clips'` (the wall's ?voice=clips) uses the clips even where a system voice
 * exists, e.g. after a hall replaced them with recordings of its own announcer.
 *
 * Announcements are queued: they never overlap. Each item has a key; an item whose key was
 * announced (or queued) before is ignored, so a call is announced once per display even when
 * many arrive at once or arrive again after a resync. A recall gets its own key.
 *
 * Stale-call policy: when the announcements fall behind — more than `maxPending` waiting, or
 * the oldest waiting longer than `maxAgeMs` — the queue is cut to the newest call of each
 * window, in call order; the skipped calls are logged (console, `skipLog`, `onSkip`). So the
 * backlog never exceeds max(maxPending, windows on the wall) plus the one being announced.
 * The page shows calls as they come; the voice never holds it back.
 *
 * Where neither voice works the chime still plays, `voiceAvailable` is false and the page
 * shows 语音不可用.
 *
 * The text builders are pure functions (no DOM): Announcer.callText("A012", 5) ->
 * "请 A 零 一 二 号 到 5 号窗口 办理".
 *
 * Timing can be tuned per display with window.HALLOPS_ANNOUNCER =
 * {chimeMs, gapMs, repeat, maxPending, maxAgeMs, prefer}.
 */
(function (root, factory) {
  var api = factory(root.VoiceClips);
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.Announcer = api;
})(typeof self !== 'undefined' ? self : this, function (VoiceClips) {
  'use strict';

  var DIGITS = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
  var DEFAULT_MAX_PENDING = 4;
  var DEFAULT_MAX_AGE_MS = 30000;

  /**
   * A ticket number as Chinese halls read it: the letters, then each digit on its own.
   * "A012" -> "A 零 一 二"
   */
  function spellNumber(number) {
    var out = [];
    String(number == null ? '' : number).trim().split('').forEach(function (ch) {
      if (ch >= '0' && ch <= '9') out.push(DIGITS[ch.charCodeAt(0) - 48]);
      else if (/[A-Za-z]/.test(ch)) out.push(ch.toUpperCase());
      else if (ch.trim()) out.push(ch);
    });
    return out.join(' ');
  }

  /** The spoken call: "请 A 零 一 二 号 到 5 号窗口 办理"; a recall starts with 再次呼叫. */
  function callText(number, windowNumber, kind) {
    return (kind === 'recall' ? '再次呼叫 ' : '') + '请 ' + spellNumber(number) + ' 号 到 ' + windowNumber + ' 号窗口 办理';
  }

  /** The call as shown on screen: "请 A012 号 到 5 号窗口 办理". */
  function displayText(number, windowNumber) {
    return '请 ' + String(number).trim().toUpperCase() + ' 号 到 ' + windowNumber + ' 号窗口 办理';
  }

  // Mandarin voices first; zh-HK is Cantonese and reads Mandarin text wrongly.
  function pickVoice(voices) {
    var list = Array.prototype.slice.call(voices || []);
    var norm = function (v) { return String(v.lang || '').replace('_', '-').toLowerCase(); };
    var tests = [
      function (l) { return l === 'zh-cn' || l === 'cmn-cn' || l === 'cmn-hans-cn' || l === 'zh-hans-cn'; },
      function (l) { return l === 'zh' || l === 'cmn' || l.indexOf('zh-hans') === 0; },
      function (l) { return l === 'zh-tw' || l === 'cmn-tw' || l.indexOf('zh-hant') === 0; }
    ];
    for (var i = 0; i < tests.length; i++) {
      var hits = list.filter(function (v) { return tests[i](norm(v)); });
      if (hits.length) return hits.filter(function (v) { return v.localService; })[0] || hits[0];
    }
    return null;
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function pick(tune, opts, name, fallback) {
    if (tune[name] != null) return tune[name];
    if (opts[name] != null) return opts[name];
    return fallback;
  }

  /**
   * new Announcer({repeat, chimeMs, gapMs, maxPending, maxAgeMs, prefer, synth, clipBase,
   *                onStatus(available, reason), onStart(item), onEnd(item), onSkip(info)})
   * announcer.announceCall({key, number, window, recall}) / announcer.enqueue(item)
   */
  function Announcer(opts) {
    opts = opts || {};
    var tune = (typeof window !== 'undefined' && window.HALLOPS_ANNOUNCER) || {};
    this.repeat = pick(tune, opts, 'repeat', 2);
    this.chimeMs = pick(tune, opts, 'chimeMs', 1100);
    this.gapMs = pick(tune, opts, 'gapMs', 600);
    this.maxPending = Math.max(1, pick(tune, opts, 'maxPending', DEFAULT_MAX_PENDING));
    this.maxAgeMs = Math.max(1000, pick(tune, opts, 'maxAgeMs', DEFAULT_MAX_AGE_MS));
    this.prefer = pick(tune, opts, 'prefer', 'auto'); // 'auto' | 'speech' | 'clips'
    this.synth = opts.synth !== undefined ? opts.synth
      : (typeof window !== 'undefined' && window.speechSynthesis) || null;
    this.onStatus = opts.onStatus || function () {};
    this.onStart = opts.onStart || function () {};
    this.onEnd = opts.onEnd || function () {};
    this.onSkip = opts.onSkip || function () {};
    this.queue = [];
    this.seen = new Set();
    this.seenOrder = [];
    this.history = []; // announced items, in order (for diagnostics and tests)
    this.skipLog = []; // {at, reason, skipped: [display texts], kept}
    this.current = null;
    this.running = false;
    this.speechVoice = null;
    this.speechReason = '';
    this.voiceMode = null; // 'speech' | 'clips' | null (none)
    this.voiceAvailable = null; // null: not known yet
    this.voiceReason = '';
    this.audio = null;
    this.out = null; // master gain -> destination
    this.voiceOut = null; // clips -> voiceOut -> analyser -> out
    this.analyser = null;
    this.meter = { peak: 0, rms: 0, frames: 0 }; // measured on the clip voice's output
    this.lastClips = [];
    this.chimes = 0;
    var self = this;
    this.clips = VoiceClips ? new VoiceClips.ClipPlayer({
      base: opts.clipBase || '/static/voice/',
      context: function () { return self._audio(); },
      output: function () { return self.voiceOut; }
    }) : null;
    // Deferred: onStatus may refer to the announcer, which the caller has not stored yet.
    this._ready = Promise.resolve().then(function () {
      return Promise.all([self._loadVoices(), self.clips ? self.clips.load() : false]);
    }).then(function () { self._initialised = true; self._decide(); });
  }

  Announcer.spellNumber = spellNumber;
  Announcer.callText = callText;
  Announcer.displayText = displayText;
  Announcer.pickVoice = pickVoice;
  Announcer.clipsFor = function (number, windowNumber, kind) {
    return VoiceClips ? VoiceClips.callClips(number, windowNumber, kind) : [];
  };

  /** Choose the voice from what is known now and tell the page when that changes. */
  Announcer.prototype._decide = function () {
    var clipsOk = !!(this.clips && this.clips.ready);
    var speechOk = !!this.speechVoice;
    var mode = null;
    if (this.prefer === 'clips') mode = clipsOk ? 'clips' : (speechOk ? 'speech' : null);
    else if (this.prefer === 'speech') mode = speechOk ? 'speech' : null;
    else mode = speechOk ? 'speech' : (clipsOk ? 'clips' : null);
    var reason = mode ? '' : (this.speechReason === 'blocked' ? 'blocked' : (this.speechReason || 'no-zh-voice'));
    var changed = mode !== this.voiceMode || (mode !== null) !== this.voiceAvailable || reason !== this.voiceReason;
    this.voiceMode = mode;
    this.voiceAvailable = mode !== null;
    this.voiceReason = reason;
    if (changed) this.onStatus(this.voiceAvailable, this.voiceReason);
  };

  Announcer.prototype._setSpeech = function (voice, reason) {
    this.speechVoice = voice;
    this.speechReason = voice ? '' : reason;
    if (this._initialised) this._decide(); // before that, _ready decides once voices and clips are known
  };

  Announcer.prototype._loadVoices = function () {
    var self = this;
    var synth = this.synth;
    if (!synth || typeof SpeechSynthesisUtterance === 'undefined') {
      this._setSpeech(null, 'no-speech');
      return Promise.resolve();
    }
    var found = pickVoice(synth.getVoices());
    if (found) { this._setSpeech(found, ''); return Promise.resolve(); }
    // Voices often load asynchronously: wait for voiceschanged, but not for long.
    return new Promise(function (resolve) {
      var done = false;
      var finish = function () {
        if (done) return;
        done = true;
        self._setSpeech(pickVoice(synth.getVoices()), 'no-zh-voice');
        resolve();
      };
      try {
        synth.addEventListener('voiceschanged', function () {
          var v = pickVoice(synth.getVoices());
          if (v) { self._setSpeech(v, ''); finish(); }
        });
      } catch (e) { /* old browsers */ }
      setTimeout(finish, 1500);
    });
  };

  Announcer.prototype._refreshVoice = function () {
    if (this.synth && this.speechReason !== 'blocked') {
      var v = pickVoice(this.synth.getVoices());
      this.speechVoice = v;
      this.speechReason = v ? '' : (this.synth ? 'no-zh-voice' : 'no-speech');
    }
    this._decide();
  };

  /** Call after a user gesture (click/touch): unlocks audio and speech in browsers that need it. */
  Announcer.prototype.unlock = function () {
    var ctx = this._audio();
    if (ctx && ctx.state === 'suspended' && ctx.resume) ctx.resume().catch(function () {});
    if (this.speechReason === 'blocked') {
      this.speechReason = '';
      this._refreshVoice();
    }
  };

  Announcer.prototype.audioBlocked = function () {
    var ctx = this._audio();
    return !!(ctx && ctx.state === 'suspended');
  };

  /** True when the key was announced or is queued. */
  Announcer.prototype.has = function (key) { return this.seen.has(key); };

  /** Remember a key without announcing it (calls already on screen when the page opened). */
  Announcer.prototype.markSeen = function (key) {
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.seenOrder.push(key);
    if (this.seenOrder.length > 2000) this.seen.delete(this.seenOrder.shift());
  };

  Announcer.prototype.announceCall = function (call) {
    var kind = call.recall ? 'recall' : 'call';
    return this.enqueue({
      key: call.key, number: call.number, window: call.window, ticket_id: call.ticket_id,
      text: callText(call.number, call.window, kind), display: displayText(call.number, call.window),
      clips: Announcer.clipsFor(call.number, call.window, kind), recall: !!call.recall
    });
  };

  /** Queue an announcement; false when its key was seen before. */
  Announcer.prototype.enqueue = function (item) {
    if (item.key != null) {
      if (this.seen.has(item.key)) return false;
      this.markSeen(item.key);
    }
    item.queuedAt = Date.now();
    this.queue.push(item);
    this._catchUp();
    this._kick();
    return true;
  };

  Announcer.prototype.pending = function () { return this.queue.length + (this.current ? 1 : 0); };

  /** The stale-call policy (see the top of this file). Returns the number of calls skipped. */
  Announcer.prototype._catchUp = function () {
    var q = this.queue;
    if (!q.length) return 0;
    var now = Date.now();
    var tooMany = q.length > this.maxPending;
    var tooOld = now - q[0].queuedAt > this.maxAgeMs;
    if (!tooMany && !tooOld) return 0;
    var maxAge = this.maxAgeMs;
    var newest = new Map(); // window -> its newest item: any earlier call of a window is stale
    q.forEach(function (it) { newest.set(it.window, it); });
    var kept = q.filter(function (it) { return newest.get(it.window) === it; });
    var keptSet = new Set(kept);
    var skipped = q.filter(function (it) { return !keptSet.has(it); });
    if (!skipped.length) return 0;
    this.queue = kept;
    var info = {
      at: now, reason: tooMany ? 'pending' : 'age', kept: kept.length,
      skipped: skipped.map(function (it) { return it.display || it.text; })
    };
    this.skipLog.push(info);
    if (this.skipLog.length > 100) this.skipLog.shift();
    if (typeof console !== 'undefined') {
      console.warn('[announcer] behind (' + (tooMany ? q.length + ' pending > ' + this.maxPending
        : 'oldest waited ' + Math.round((now - q[0].queuedAt) / 1000) + ' s > ' + Math.round(maxAge / 1000) + ' s') +
        '): skipped ' + skipped.length + ' call(s), announcing the newest per window: ' + info.skipped.join(' / '));
    }
    try { this.onSkip(info); } catch (e) { /* a page bug must not stop the queue */ }
    return skipped.length;
  };

  Announcer.prototype._kick = function () {
    var self = this;
    if (this.running) return;
    this.running = true;
    this._ready.then(function () { return self._drain(); }).catch(function (e) {
      if (typeof console !== 'undefined') console.error('announcer', e);
    }).then(function () {
      self.running = false;
      self.current = null;
      if (self.queue.length) self._kick();
    });
  };

  Announcer.prototype._drain = async function () {
    while (this.queue.length) {
      this._catchUp(); // calls age while others are announced
      var item = this.queue.shift();
      this.current = item;
      try { this.onStart(item); } catch (e) { /* a page bug must not stop the queue */ }
      this.history.push({ key: item.key, text: item.text, at: Date.now() });
      if (this.history.length > 500) this.history.splice(0, this.history.length - 500);
      await this._chime();
      this._refreshVoice();
      if (this.voiceMode) {
        for (var i = 0; i < this.repeat; i++) {
          if (i > 0) await sleep(this.gapMs);
          if (this.voiceMode === 'speech') await this._speak(item.text);
          else await this._playClips(item.clips || Announcer.clipsFor(item.number, item.window, item.recall ? 'recall' : 'call'));
        }
      } else {
        await sleep(Math.max(1500, this.gapMs)); // still give each call its moment
      }
      try { this.onEnd(item); } catch (e) { /* ignore */ }
      this.current = null;
      await sleep(this.gapMs);
    }
  };

  /** The AudioContext and its graph: out (master) -> destination; voiceOut -> analyser -> out. */
  Announcer.prototype._audio = function () {
    if (this.audio) return this.audio;
    var Ctx = typeof window !== 'undefined' && (window.AudioContext || window.webkitAudioContext);
    if (!Ctx) return null;
    try {
      var ctx = new Ctx();
      this.out = ctx.createGain();
      this.out.connect(ctx.destination);
      this.voiceOut = ctx.createGain();
      this.analyser = ctx.createAnalyser();
      this.analyser.fftSize = 2048;
      this.voiceOut.connect(this.analyser);
      this.analyser.connect(this.out);
      this.audio = ctx;
    } catch (e) { this.audio = null; }
    return this.audio;
  };

  /** Play the clips; meanwhile measure the voice's level (peak, RMS) on the analyser. */
  Announcer.prototype._playClips = function (keys) {
    var self = this;
    var ctx = this._audio();
    if (ctx && ctx.state === 'suspended' && ctx.resume) ctx.resume().catch(function () {});
    this.lastClips = keys.slice();
    var an = this.analyser;
    var buf = an && typeof an.getFloatTimeDomainData === 'function' ? new Float32Array(an.fftSize) : null;
    var timer = buf ? setInterval(function () {
      an.getFloatTimeDomainData(buf);
      var peak = 0, sum = 0;
      for (var i = 0; i < buf.length; i++) {
        var v = buf[i];
        sum += v * v;
        if (v > peak) peak = v; else if (-v > peak) peak = -v;
      }
      var rms = Math.sqrt(sum / buf.length);
      var m = self.meter;
      m.frames += 1;
      if (peak > m.peak) m.peak = peak;
      if (rms > m.rms) m.rms = rms;
    }, 25) : null;
    return this.clips.play(keys).then(function () { if (timer) clearInterval(timer); });
  };

  /** A two-tone "叮咚" chime, synthesized. Waits its length whether or not audio plays. */
  Announcer.prototype._chime = function () {
    this.chimes += 1;
    var ms = this.chimeMs;
    if (ms <= 0) return Promise.resolve();
    var ctx = this._audio();
    if (ctx) {
      try {
        if (ctx.state === 'suspended' && ctx.resume) ctx.resume().catch(function () {});
        var t0 = ctx.currentTime + 0.02;
        var notes = [[659.25, 0], [523.25, 0.45]]; // E5, C5
        var total = ms / 1000;
        var out = this.out;
        notes.forEach(function (n) {
          var osc = ctx.createOscillator();
          var gain = ctx.createGain();
          osc.type = 'sine';
          osc.frequency.value = n[0];
          var start = t0 + n[1] * total / 1.1;
          var end = Math.min(t0 + total, start + 0.65 * total);
          gain.gain.setValueAtTime(0.0001, start);
          gain.gain.exponentialRampToValueAtTime(0.35, start + 0.02);
          gain.gain.exponentialRampToValueAtTime(0.0001, end);
          osc.connect(gain).connect(out);
          osc.start(start);
          osc.stop(end + 0.05);
        });
      } catch (e) { /* no audio: the wait below keeps the rhythm */ }
    }
    return sleep(ms);
  };

  /** Speak once; resolves at the end (or on error, or after a safety timeout). */
  Announcer.prototype._speak = function (text) {
    var self = this;
    var synth = this.synth;
    return new Promise(function (resolve) {
      var finished = false;
      var done = function () {
        if (finished) return;
        finished = true;
        clearTimeout(guard);
        resolve();
      };
      // Some engines never fire onend: do not let one utterance block the queue.
      var guard = setTimeout(done, Math.max(8000, text.length * 700));
      try {
        var u = new SpeechSynthesisUtterance(text);
        u.lang = 'zh-CN';
        u.rate = 0.9;
        u.pitch = 1;
        u.volume = 1;
        try { if (self.speechVoice) u.voice = self.speechVoice; } catch (e) { /* not a platform voice object */ }
        u.onend = done;
        u.onerror = function (e) {
          if (e && e.error === 'not-allowed') { self.speechReason = 'blocked'; self.speechVoice = null; self._decide(); }
          done();
        };
        synth.speak(u);
      } catch (e) {
        done();
      }
    });
  };

  return Announcer;
});
